#!/bin/sh
# SPDX-License-Identifier: MIT
# docs/integrations/prometheus/ works as shipped: Debian's mqtt2prometheus
# (prometheus-mqtt-exporter 0.1.7) runs the two shipped configs, with only the broker
# address changed, against a private broker fed by the real agent on libvirt's test
# driver (names with '+', '#', '%', quotes, non-ASCII); a real Prometheus (Debian's
# 2.42) scrapes them with the shipped prometheus.yml (targets and intervals changed).
# prometheus_check.py then compares every exported value with the retained payloads,
# checks the host and vm labels Prometheus makes of the topics, runs every query of
# the Grafana dashboard through Prometheus' HTTP API, and the test shows what
# docs/integrations/prometheus.md says of removed VMs and absent figures. A missing
# exporter or Prometheus fails the test: they are in third_party/packages.txt (test).
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"

DIR=$KG_SOURCE_DIR/docs/integrations/prometheus
CHECK=$KG_SOURCE_DIR/tests/integration/docs/prometheus_check.py
: "${PROMETHEUS_MQTT_EXPORTER:=$(command -v prometheus-mqtt-exporter || echo /usr/bin/prometheus-mqtt-exporter)}"
: "${PROMETHEUS:=$(command -v prometheus || echo /usr/bin/prometheus)}"
[ -x "$PROMETHEUS_MQTT_EXPORTER" ] ||
    kg_die "$PROMETHEUS_MQTT_EXPORTER missing (package prometheus-mqtt-exporter: third_party/install.sh test)"
[ -x "$PROMETHEUS" ] || kg_die "$PROMETHEUS missing (package prometheus: third_party/install.sh test)"

# check STEP ARGS...: one step of prometheus_check.py; its lines become this test's
check() {
    if python3 "$CHECK" "$@" >"$KG_TMP/check.out" 2>&1; then
        while read -r line; do kg_pass "${line#ok: }"; done <"$KG_TMP/check.out"
    else
        kg_fail "$(cat "$KG_TMP/check.out")"
        return 1
    fi
}
# free_port_but PORT...: a free loopback port other than those given
free_port_but() {
    while :; do
        _p=$(kg_free_port)
        case " $* " in *" $_p "*) ;; *) echo "$_p"; return 0 ;; esac
    done
}
# retained: the broker's retained VM, host and status payloads into $KG_VMS, $KG_HOSTS,
# $KG_STATUS ("topic payload" lines), read at once (the exporter forgets in 15 s)
retained() {
    kg_sub_retained "$KG_PORT" 'kvmgrid/#' 2 -v >"$KG_TMP/retained.txt"
    grep '^kvmgrid/[^/ ]*/vm/[^/ ]* ' "$KG_TMP/retained.txt" >"$KG_VMS"
    grep '^kvmgrid/[^/ ]*/metrics ' "$KG_TMP/retained.txt" >"$KG_HOSTS"
    grep '^kvmgrid/[^/ ]*/status ' "$KG_TMP/retained.txt" >"$KG_STATUS"
}
http_ok() { python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1"; }

kg_broker_start
XPORT=$(free_port_but "$KG_PORT")
SPORT=$(free_port_but "$KG_PORT" "$XPORT")
PPORT=$(free_port_but "$KG_PORT" "$XPORT" "$SPORT")
export KG_PROM_DIR="$DIR" KG_EXPORTER_URL="http://127.0.0.1:$XPORT/metrics" \
    KG_STATUS_URL="http://127.0.0.1:$SPORT/metrics" KG_PROM_URL="http://127.0.0.1:$PPORT" \
    KG_VMS="$KG_TMP/vms.txt" KG_HOSTS="$KG_TMP/hosts.txt" KG_STATUS="$KG_TMP/status.txt"

# the shipped files, the broker address, targets and intervals changed, nothing else
for c in mqtt2prometheus-kvmgrid mqtt2prometheus-kvmgrid-status; do
    sed "s|server: tcp://127.0.0.1:1883|server: $KG_BROKER_URI|" "$DIR/$c.yaml" >"$KG_TMP/$c.yaml"
    grep -q "server: $KG_BROKER_URI" "$KG_TMP/$c.yaml" || kg_die "$c.yaml: no server line to change"
done
sed -e "s|localhost:9641|127.0.0.1:$XPORT|" -e "s|localhost:9642|127.0.0.1:$SPORT|" \
    -e 's|_interval: 15s|_interval: 1s|' "$DIR/prometheus.yml" >"$KG_TMP/prometheus.yml"
[ "$(grep -c '_interval: 1s' "$KG_TMP/prometheus.yml")" -eq 4 ] || kg_die "prometheus.yml: intervals not found"

kg_spawn exporter "$PROMETHEUS_MQTT_EXPORTER" -config "$KG_TMP/mqtt2prometheus-kvmgrid.yaml" \
    -listen-address 127.0.0.1 -listen-port "$XPORT"
kg_spawn exporter-status "$PROMETHEUS_MQTT_EXPORTER" \
    -config "$KG_TMP/mqtt2prometheus-kvmgrid-status.yaml" -listen-address 127.0.0.1 -listen-port "$SPORT"
kg_spawn prometheus "$PROMETHEUS" --config.file="$KG_TMP/prometheus.yml" \
    --storage.tsdb.path="$KG_TMP/prometheus-data" --web.listen-address="127.0.0.1:$PPORT"
# host figures from this machine's /proc, so that the host metrics have them all
kg_agent_start agent --libvirt-uri "test://$NODE_XML" --interval 1s --proc-root /proc

# awkward names by hand: VM "web/01" on host "hv 1", with every figure of the protocol;
# VM "metrics" on host "vm" (topic levels that look like the other topics' shapes)
full='"state":"running","stale":true,"age_s":42.5,"vcpus":4,"cpu_pct":63.5,"cpu_host_pct":7.938,"steal_pct":1.25,"mem_max_kib":8388608,"mem_cur_kib":8388608,"mem_used_kib":5033165,"mem_used_pct":62.5,"mem_rss_kib":8126464,"disk_rd_bytes_per_s":1048576,"disk_wr_bytes_per_s":20971520,"disk_rd_iops":12.5,"disk_wr_iops":320.25,"disk_rd_lat_ms":0.412,"disk_wr_lat_ms":2.8,"net_rx_bytes_per_s":125000.5,"net_tx_bytes_per_s":64000,"net_rx_pkts_per_s":95.2,"net_tx_pkts_per_s":60.8,"net_errs_per_s":0,"net_drop_per_s":0.2'
# (published again before each step: the exporter forgets a series 15 s after its last payload)
by_hand() {
    kg_pub 'kvmgrid/hv%201/vm/web%2F01' \
        "{\"schema\":1,\"ts\":$(date +%s)000,\"host\":\"hv 1\",\"name\":\"web/01\",$full}" -r -q 1
    kg_pub 'kvmgrid/vm/vm/metrics' \
        "{\"schema\":1,\"ts\":$(date +%s)000,\"host\":\"vm\",\"name\":\"metrics\",\"state\":\"paused\",\"stale\":false}" -r -q 1
}
kg_pub 'kvmgrid/hv%201/status' online -r -q 1
by_hand

rates() { kg_retained 'kvmgrid/hv1/vm/+' | grep -q '"disk_rd_bytes_per_s"' &&
    kg_retained 'kvmgrid/hv1/metrics' | grep -q '"disk_rd_bytes_per_s"'; }
kg_wait_for 20 rates || kg_die "no VM and host payloads with rates"
kg_wait_for 20 http_ok "$KG_EXPORTER_URL" || kg_die "the exporter does not serve /metrics"
kg_wait_for 20 http_ok "$KG_STATUS_URL" || kg_die "the status exporter does not serve /metrics"
kg_wait_for 30 http_ok "$KG_PROM_URL/-/ready" || kg_die "Prometheus is not ready"
scraped() {
    python3 -c 'import json,sys,urllib.request
d = json.load(urllib.request.urlopen(sys.argv[1] + "/api/v1/query?query=count(kvmgrid_vm_state)%2Bcount(kvmgrid_host_online)%2Bcount(kvmgrid_host_cpu_ratio)"))
sys.exit(0 if d["data"]["result"] and float(d["data"]["result"][0]["value"][1]) >= 12 else 1)' "$KG_PROM_URL"
}
kg_wait_for 20 scraped || kg_die "Prometheus has not scraped the grid"

# 1. while the agent runs: labels in Prometheus, and every query of the dashboard
by_hand
check prom-present --within 10 'kvmgrid_vm_state{host="hv%201"}' ||
    kg_die "Prometheus has not scraped the VMs published by hand"
retained
check dashboard

# 2. the agent stopped (its last payloads stay retained, its status turns offline):
# every value the exporters hold against the retained payloads
kg_stop "$AGENT_PID"
offline() { [ "$(kg_retained_payload kvmgrid/hv1/status)" = offline ]; }
kg_wait_for 10 offline || kg_fail "the agent's status did not turn offline"
by_hand
retained
kg_log "$(wc -l <"$KG_TMP/vms.txt") VM payloads, $(wc -l <"$KG_TMP/hosts.txt") host payloads, $(wc -l <"$KG_TMP/status.txt") statuses"
check values

# 3. the limits docs/integrations/prometheus.md states, as the real exporter shows them.
# A VM that another publisher keeps refreshing, to tell expiry from anything else.
kg_spawn keeper sh -c 'while :; do
    "$0" -h 127.0.0.1 -p "$1" -q 1 -r -t "kvmgrid/hv%201/vm/keeper" \
        -m "{\"schema\":1,\"ts\":$(date +%s)000,\"host\":\"hv 1\",\"name\":\"keeper\",\"state\":\"running\",\"stale\":false}"
    sleep 1
done' "$MOSQUITTO_PUB" "$KG_PORT"
KEEPER_PID=$KG_LAST_PID
T='kvmgrid/hv%201/vm/web%2F01'
by_hand
# a figure that turns absent keeps its last value (the VM shut off: no cpu_pct)
kg_pub "$T" "{\"schema\":1,\"ts\":$(date +%s)000,\"host\":\"hv 1\",\"name\":\"web/01\",\"state\":\"shutoff\",\"stale\":false,\"vcpus\":4}" -r -q 1
check series --within 10 "$T" present kvmgrid_vm_state=5 kvmgrid_vm_stale=0 kvmgrid_vm_cpu_ratio=0.635 &&
    kg_pass "documented limit: cpu_pct absent from the new payload, its series keeps the last value"
# the VM removed: its series stay until the cache timeout (15 s after its last
# payload), the keeper's do not go
n=$(python3 "$CHECK" received "$T")
"$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PORT" -t "$T" -r -n -q 1
t0=$(date +%s)
check received-more --within 10 "$T" "$n"
check series "$T" present kvmgrid_vm_state=5 &&
    kg_pass "documented limit: an empty payload (VM removed) leaves its series in place"
check series --within 30 "$T" absent
kg_log "the removed VM's series went $(( $(date +%s) - t0 )) s after the empty payload"
check series 'kvmgrid/hv%201/vm/keeper' present kvmgrid_vm_state=1
check series 'kvmgrid/hv1/vm/web%2B1' absent &&
    kg_pass "the stopped agent's VMs went after the cache timeout as well"
check prom-absent --within 10 'kvmgrid_vm_state{vm="web%2F01"}'
check prom-absent 'kvmgrid_vm_state{host="hv1"}'
kg_stop "$KEEPER_PID"
