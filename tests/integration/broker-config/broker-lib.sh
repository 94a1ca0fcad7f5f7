# SPDX-License-Identifier: MIT
# Helpers for the broker-config integration tests, sourced after
# tests/integration/lib.sh: a private production broker rendered from
# broker-config/production.conf.in into $KG_TMP (users from mkusers.sh, test
# certificates from mkcerts.sh, persistence in $KG_TMP), a subscriber that
# records what it receives, and a "marker" to know that everything sent before
# it has been delivered (mosquitto handles messages one at a time, in order).

KGB_CFG="$KG_SOURCE_DIR/broker-config"

# kgb_prod_setup NAME ROLE:NAME...: makes $KG_TMP/NAME/{etc,etc/tls,data,run},
# creates the users and certificates and renders NAME/mosquitto.conf with two
# free ports. Sets KGB_DIR, KGB_PORT (plain, loopback), KGB_TLS_PORT, KGB_CONF.
kgb_prod_setup() {
    KGB_DIR="$KG_TMP/$1"; shift
    mkdir -p "$KGB_DIR/etc/tls" "$KGB_DIR/data" "$KGB_DIR/run"
    "$KGB_CFG/mkusers.sh" -d "$KGB_DIR/etc" ${KGB_PREFIXES:-} "$@" 2>>"$KG_TMP/setup.log" ||
        kg_die "mkusers.sh failed"
    if [ -n "${KGB_CA_DIR:-}" ]; then   # share one CA between brokers
        cp "$KGB_CA_DIR/ca.crt" "$KGB_CA_DIR/ca.key" "$KGB_DIR/etc/tls/"
    fi
    "$KGB_CFG/mkcerts.sh" -d "$KGB_DIR/etc/tls" 2>>"$KG_TMP/setup.log" || kg_die "mkcerts.sh failed"
    KGB_PORT=$(kg_free_port)
    KGB_TLS_PORT=$(kg_free_port)
    while [ "$KGB_TLS_PORT" = "$KGB_PORT" ]; do KGB_TLS_PORT=$(kg_free_port); done
    KGB_CONF="$KGB_DIR/mosquitto.conf"
    CONF_DIR="$KGB_DIR/etc" DATA_DIR="$KGB_DIR/data" RUN_DIR="$KGB_DIR/run" LOG_DEST=stderr \
        TLS_PORT=$KGB_TLS_PORT LOCAL_PORT=$KGB_PORT \
        "$KGB_CFG/render.sh" "$KGB_CFG/production.conf.in" > "$KGB_CONF" || kg_die "render.sh failed"
    if [ "$(id -u)" -eq 0 ]; then
        # As root, mosquitto drops to user mosquitto, exactly as in production:
        # it must be able to reach and read the files mkusers/mkcerts made
        # root:mosquitto 0640, and to write its persistence and pid files.
        chmod 711 "$KG_TMP" "$KGB_DIR"
        chown root:mosquitto "$KGB_DIR/etc" && chmod 750 "$KGB_DIR/etc"
        chown mosquitto "$KGB_DIR/data" "$KGB_DIR/run"
    fi
}

# kgb_prod_start [LOGNAME]: starts the broker rendered by kgb_prod_setup; waits for both ports.
kgb_prod_start() {
    kg_spawn "${1:-prod}" "$MOSQUITTO" -c "$KGB_CONF"
    KGB_PID=$KG_LAST_PID
    kg_wait_for 10 kg_port_open "$KGB_PORT" || kg_die "production broker: no plain listener on $KGB_PORT"
    kg_wait_for 10 kg_port_open "$KGB_TLS_PORT" || kg_die "production broker: no TLS listener on $KGB_TLS_PORT"
}

# kgb_password USER: the password mkusers.sh generated for USER.
kgb_password() { cat "$KGB_DIR/etc/credentials/$1.pass"; }

# kgb_pub USER TOPIC PAYLOAD [mosquitto_pub args...]: publishes QoS 1 as USER on
# the loopback listener; prints mosquitto_pub's output (stdout and stderr).
kgb_pub() {
    _u=$1; _t=$2; _m=$3; shift 3
    "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KGB_PORT" -u "$_u" -P "$(kgb_password "$_u")" \
        -q 1 -t "$_t" -m "$_m" "$@" 2>&1
}

# kgb_sub_start LOGNAME USER FILTER: a mosquitto_sub (-v) as USER writing
# $KG_TMP/LOGNAME.out; sets KGB_SUB_PID.
kgb_sub_start() {
    _out="$KG_TMP/$1.out"; : > "$_out"
    "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KGB_PORT" -u "$2" -P "$(kgb_password "$2")" \
        -q 1 -t "$3" -v >"$_out" 2>>"$KG_TMP/$1.log" &
    KGB_SUB_PID=$!
    KG_PIDS="$KG_PIDS $KGB_SUB_PID"
}

kgb_has_line() { grep -qxF -- "$2" "$1"; }

# kgb_sync OUTFILE USER TOPIC: publishes a unique marker as USER (who must be allowed
# to write TOPIC) and waits until it appears in OUTFILE. Everything published and
# acknowledged before it has then been delivered (or dropped) too.
kgb_sync() {
    _mk="marker-$(date +%s%N)"
    kgb_pub "$2" "$3" "$_mk" >/dev/null
    kg_wait_for 10 kgb_has_line "$1" "$3 $_mk" || kg_die "marker on $3 never reached $1"
}
