"""cta: a real-time CTA 'L' status board on Kafka, with an in-process emulation of the stack."""

__version__ = "0.1.0"
