#!/bin/bash
# One KRaft node. Environment: KAFKA_ADVERTISED_LISTENERS (the INTERNAL listener as containers
# reach it, the HOST one as programs on the host do, through the published port);
# CLUSTER_ID (default: a new one, on the first start only).
set -euo pipefail
props=/var/lib/kafka/server.properties
data=/var/lib/kafka/data
classpath='/opt/kafka/lib/*'
jvm=(-Xmx"${KAFKA_HEAP:-512m}" -Xms64m -XX:+UseSerialGC -Djava.awt.headless=true
     -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties)

cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:9093
listeners=INTERNAL://0.0.0.0:9092,HOST://0.0.0.0:19092,CONTROLLER://127.0.0.1:9093
advertised.listeners=${KAFKA_ADVERTISED_LISTENERS:-INTERNAL://kafka:9092,HOST://127.0.0.1:19092}
listener.security.protocol.map=INTERNAL:PLAINTEXT,HOST:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=INTERNAL
log.dirs=$data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS

if [ ! -f "$data/meta.properties" ]; then
  cluster_id="${CLUSTER_ID:-$(cta-java -cp "$classpath" kafka.tools.StorageTool random-uuid)}"
  cta-java "${jvm[@]}" -cp "$classpath" kafka.tools.StorageTool format --standalone \
    --cluster-id="$cluster_id" -c "$props"
fi
exec cta-java "${jvm[@]}" -cp "$classpath" kafka.Kafka "$props"
