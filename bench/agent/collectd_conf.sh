# SPDX-License-Identifier: MIT
# The peer's configuration, in one place for bench/agent/run.sh (CPU and RSS) and
# bench/agent/profile.sh (instruction counts), so that both measure the same collectd:
# its virt plugin on a libvirt test-driver XML, publishing through its mqtt plugin to
# the benchmark's private broker ($KG_PORT).
#   kg_collectd_conf OUT_FILE NODE_XML INTERVAL_S REFRESH_S [QOS [BLOCK]]
# QOS is its mqtt plugin's QoS for the values (its default, 0, when left out).
# BLOCK false sets the virt plugin's ReportBlockDevices false (default true): on
# the test driver its block calls (virDomainBlockStatsFlags) all fail, and each
# failure is logged, 4 lines per disk and cycle.
kg_collectd_conf() {
    cat > "$1" <<EOC
Hostname "bench"
FQDNLookup false
Interval $3
BaseDir "$KG_TMP"
PIDFile "$KG_TMP/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin virt
LoadPlugin mqtt
<Plugin virt>
  Connection "test://$2"
  RefreshInterval $4
  ReportBlockDevices ${6:-true}
</Plugin>
<Plugin mqtt>
  <Publish "bench">
    Host "127.0.0.1"
    Port "$KG_PORT"
    ClientId "collectd-bench"
    QoS ${5:-0}
  </Publish>
</Plugin>
EOC
}
