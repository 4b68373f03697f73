"""``python -m cta.ksql``: the standalone KSQL server (see ``cta.ksql.server``)."""

from cta.ksql.server import main

main()
