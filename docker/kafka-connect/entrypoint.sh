#!/bin/bash
# One distributed-mode worker. Environment: CONNECT_BOOTSTRAP_SERVERS (default kafka:9092),
# CONNECT_ADVERTISED_HOST (default: this host's name).
set -euo pipefail
props=/tmp/worker.properties
cat >"$props" <<PROPS
bootstrap.servers=${CONNECT_BOOTSTRAP_SERVERS:-kafka:9092}
group.id=${CONNECT_GROUP_ID:-cta-connect}
listeners=http://0.0.0.0:8083
rest.advertised.host.name=${CONNECT_ADVERTISED_HOST:-$(hostname)}
rest.advertised.port=8083
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=false
value.converter.schemas.enable=false
config.storage.topic=cta-connect-configs
offset.storage.topic=cta-connect-offsets
status.storage.topic=cta-connect-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
offset.flush.interval.ms=5000
plugin.path=/opt/connect/plugins
plugin.discovery=service_load
PROPS
exec cta-java -Xmx"${CONNECT_HEAP:-512m}" -Xms64m -XX:+UseSerialGC -Djava.awt.headless=true \
  -Dlog4j2.configurationFile=/opt/connect/log4j2.properties \
  -cp '/opt/connect/lib/*' org.apache.kafka.connect.cli.ConnectDistributed "$props"
