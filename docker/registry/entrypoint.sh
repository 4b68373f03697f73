#!/bin/bash
# Apicurio on :8080, then global compatibility BACKWARD (Confluent's default; Apicurio starts
# with none); /tmp/registry-ready marks both done (the healthcheck).
set -euo pipefail
rm -f /tmp/registry-ready
cta-java -Xmx"${REGISTRY_HEAP:-384m}" -Xms64m -XX:+UseSerialGC -Djava.awt.headless=true \
  -Dquarkus.http.port=8080 -Dquarkus.http.host=0.0.0.0 \
  -Dquarkus.management.port=9000 -Dquarkus.management.host=127.0.0.1 \
  -Dapicurio.ccompat.use-canonical-hash=true \
  -Dapicurio.rest.deletion.artifact.enabled=true \
  -Dapicurio.rest.deletion.artifact-version.enabled=true \
  -Dapicurio.rest.deletion.group.enabled=true \
  -jar /opt/apicurio/quarkus-run.jar &
pid=$!
trap 'kill -TERM "$pid"' TERM INT
until http-ok 8080 /apis/ccompat/v7/subjects 2>/dev/null; do
  kill -0 "$pid" || exit 1
  sleep 0.5
done
body='{"compatibility":"BACKWARD"}'
exec 3<>/dev/tcp/127.0.0.1/8080
printf 'PUT /apis/ccompat/v7/config HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s' \
  application/vnd.schemaregistry.v1+json "${#body}" "$body" >&3
read -r -t 10 _ status _ <&3
exec 3<&-
if [ "$status" != "200" ]; then
  echo "setting global compatibility BACKWARD failed: HTTP $status" >&2
  kill -TERM "$pid"
  exit 1
fi
echo "registry ready: global compatibility BACKWARD"
touch /tmp/registry-ready
wait "$pid"
