# SPDX-License-Identifier: MIT
# Helpers for the broker-config integration tests, sourced after
# tests/integration/lib.sh: a private production broker rendered from
# broker-config/production.conf.in into $KG_TMP (users from mkusers.sh, test
# certificates from mkcerts.sh, persistence in $KG_TMP), a subscriber that
# records what it receives, and a "marker" to know that everything sent before
# it has been delivered (mosquitto handles messages one at a time, in order).

KG_BROKER_CFG="$KG_SOURCE_DIR/broker-config"

# kg_prod_setup NAME ROLE:NAME...: makes $KG_TMP/NAME/{etc,etc/tls,data,run},
# creates the users and certificates and renders NAME/mosquitto.conf with two
# free ports. Sets KG_PROD_DIR, KG_PROD_PORT (plain, loopback), KG_PROD_TLS_PORT, KG_PROD_CONF.
kg_prod_setup() {
    KG_PROD_DIR="$KG_TMP/$1"; shift
    mkdir -p "$KG_PROD_DIR/etc/tls" "$KG_PROD_DIR/data" "$KG_PROD_DIR/run"
    "$KG_BROKER_CFG/mkusers.sh" -d "$KG_PROD_DIR/etc" ${KG_PROD_PREFIXES:-} "$@" 2>>"$KG_TMP/setup.log" ||
        kg_die "mkusers.sh failed"
    if [ -n "${KG_PROD_CA_DIR:-}" ]; then   # share one CA between brokers
        cp "$KG_PROD_CA_DIR/ca.crt" "$KG_PROD_CA_DIR/ca.key" "$KG_PROD_DIR/etc/tls/"
    fi
    "$KG_BROKER_CFG/mkcerts.sh" -d "$KG_PROD_DIR/etc/tls" 2>>"$KG_TMP/setup.log" || kg_die "mkcerts.sh failed"
    KG_PROD_PORT=$(kg_free_port)
    KG_PROD_TLS_PORT=$(kg_free_port)
    while [ "$KG_PROD_TLS_PORT" = "$KG_PROD_PORT" ]; do KG_PROD_TLS_PORT=$(kg_free_port); done
    KG_PROD_CONF="$KG_PROD_DIR/mosquitto.conf"
    CONF_DIR="$KG_PROD_DIR/etc" DATA_DIR="$KG_PROD_DIR/data" RUN_DIR="$KG_PROD_DIR/run" LOG_DEST=stderr \
        TLS_PORT=$KG_PROD_TLS_PORT LOCAL_PORT=$KG_PROD_PORT \
        "$KG_BROKER_CFG/render.sh" "$KG_BROKER_CFG/production.conf.in" > "$KG_PROD_CONF" || kg_die "render.sh failed"
    if [ "$(id -u)" -eq 0 ]; then
        # As root, mosquitto drops to user mosquitto, exactly as in production:
        # it must be able to reach and read the files mkusers/mkcerts made
        # root:mosquitto 0640, and to write its persistence and pid files.
        chmod 711 "$KG_TMP" "$KG_PROD_DIR"
        chown root:mosquitto "$KG_PROD_DIR/etc" && chmod 750 "$KG_PROD_DIR/etc"
        chown mosquitto "$KG_PROD_DIR/data" "$KG_PROD_DIR/run"
    fi
}

# kg_prod_start [LOGNAME]: starts the broker rendered by kg_prod_setup; waits for both ports.
kg_prod_start() {
    _st=0
    kg_mosquitto_start "${1:-prod}" "$KG_PROD_CONF" "$KG_PROD_PORT" "$KG_PROD_TLS_PORT" || _st=1
    KG_PROD_PID=$KG_LAST_PID
    [ $_st -eq 0 ] || kg_die "production broker: no plain listener on $KG_PROD_PORT or no TLS listener on $KG_PROD_TLS_PORT"
}

# kg_prod_password USER: the password mkusers.sh generated for USER.
kg_prod_password() { cat "$KG_PROD_DIR/etc/credentials/$1.pass"; }

# kg_prod_pub USER TOPIC PAYLOAD [mosquitto_pub args...]: publishes QoS 1 as USER on
# the loopback listener; prints mosquitto_pub's output (stdout and stderr).
kg_prod_pub() {
    _u=$1; _t=$2; _m=$3; shift 3
    "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u "$_u" -P "$(kg_prod_password "$_u")" \
        -q 1 -t "$_t" -m "$_m" "$@" 2>&1
}

# kg_prod_sub_start LOGNAME USER FILTER: a mosquitto_sub (-v) as USER writing
# $KG_TMP/LOGNAME.out; sets KG_PROD_SUB_PID.
kg_prod_sub_start() {
    _out="$KG_TMP/$1.out"; : > "$_out"
    "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u "$2" -P "$(kg_prod_password "$2")" \
        -q 1 -t "$3" -v >"$_out" 2>>"$KG_TMP/$1.log" &
    KG_PROD_SUB_PID=$!
    KG_PIDS="$KG_PIDS $KG_PROD_SUB_PID"
}

# kg_prod_retained USER FILTER [SECONDS]: lib.sh's kg_retained ("topic payload"
# lines, sorted) as USER on the production broker's loopback listener.
kg_prod_retained() {
    kg_sub_retained "$KG_PROD_PORT" "$2" "${3:-2}" -v -u "$1" -P "$(kg_prod_password "$1")" | sort
}

# kg_has_line FILE LINE: FILE has exactly LINE as one of its lines.
kg_has_line() { grep -qxF -- "$2" "$1"; }

# kg_prod_sync OUTFILE USER TOPIC: publishes a unique marker as USER (who must be allowed
# to write TOPIC) and waits until it appears in OUTFILE. Everything published and
# acknowledged before it has then been delivered (or dropped) too.
kg_prod_sync() {
    _mk="marker-$(date +%s%N)"
    kg_prod_pub "$2" "$3" "$_mk" >/dev/null
    kg_wait_for 10 kg_has_line "$1" "$3 $_mk" || kg_die "marker on $3 never reached $1"
}
