#!/bin/sh
# SPDX-License-Identifier: MIT
# Creates kvmgrid's broker users, one per role, with generated passwords, and
# writes the matching Mosquitto password file and ACL file.
#
#   mkusers.sh [-d DIR] [-p PREFIX]... [--ha-prefix HA] [--print] ROLE:NAME...
#   mkusers.sh [-d DIR] [-p PREFIX]... --acl-only ROLE:NAME...   (ACL to stdout)
#   mkusers.sh [-d DIR] [-p PREFIX]... --remove ROLE:NAME...     (delete users)
#
# Roles and the MQTT user name each gets (README.md, "Users and ACLs"):
#   agent:HOST      user HOST           writes <prefix>/HOST/{status,metrics,summary,vm/+},
#                                       reads vm/+
#   wall:NAME       user wall@NAME      reads <prefix>/#, writes nothing
#   load:NODE       user load@NODE      reads <prefix>/NODE/load/cmd, writes <prefix>/NODE/load/state
#   operator:NAME   user operator@NAME  reads <prefix>/#, writes <prefix>/+/load/cmd
#   bridge:SITE     user bridge@SITE    (on a central broker) writes SITE/<prefix>/+/{status,
#                                       metrics,summary,vm/+,load/state}, reads
#                                       SITE/<prefix>/+/load/cmd;
#                                       SITE/<prefix> is then also a prefix walls read and
#                                       operators command. (bridge.conf)
#   bridge-summary:SITE  user bridge@SITE  (on a region's centre) writes SITE/<prefix>/+/{status,
#                                       summary} and the link state SITE/<prefix>/$bridge/state,
#                                       reads SITE/<prefix>/+/load/cmd; walls and operators as
#                                       for bridge:SITE. (bridge-summary.conf) A site is one
#                                       or the other: to switch, change the role in DIR/users
#                                       and rerun mkusers.sh -d DIR (the password stays).
# --ha-prefix HA: agents publish Home Assistant discovery (ha_discovery = true,
# ha_prefix = HA): each also writes and reads HA/sensor/kvmgrid_<hostid>/+/config
# and reads HA/status. <hostid> is the host name when it is at most 32 letters,
# digits and '-', else what kvmgrid-agent computes for it (docs/PROTOCOL.md, "Home
# Assistant discovery"), which this script computes too.
# HOST, NODE, NAME and SITE: 1-63 of [A-Za-z0-9._-], starting with a letter or digit
# (a plain host name: kvmgrid's topic escaping leaves it unchanged, so the user
# name is exactly the topic level). '@' is what keeps role users apart from agents.
#
# DIR (default .) receives, created or updated:
#   DIR/users                 the ROLE:NAME registry; the ACL is rebuilt from it each run
#   DIR/passwd                mosquitto_passwd file (PBKDF2-SHA512 hashes)
#   DIR/acl                   the ACL file
#   DIR/credentials/USER.pass the generated password of USER, mode 0600, for the
#                             client that logs in as USER (never printed unless --print)
# An existing user keeps its password; --reset gives the named users new ones.
# Run as root, passwd and acl become root:mosquitto 0640 (the broker drops to
# mosquitto and must read them); otherwise they stay the caller's, 0600, and a
# warning says so. Reload a running broker afterwards: systemctl reload mosquitto
# (SIGHUP re-reads passwd and acl).
set -eu
umask 077

usage() { sed -n '3,44p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "mkusers.sh: $*" >&2; exit 2; }

dir=.
prefixes=""
ha_prefix=""
print=0
acl_only=0
reset=0
remove=0
specs=""
while [ $# -gt 0 ]; do
    case "$1" in
    -d) [ $# -ge 2 ] || die "-d needs a directory"; dir=$2; shift 2 ;;
    -p) [ $# -ge 2 ] || die "-p needs a prefix"; prefixes="$prefixes $2"; shift 2 ;;
    --ha-prefix) [ $# -ge 2 ] || die "--ha-prefix needs a prefix"; ha_prefix=$2; shift 2 ;;
    --print) print=1; shift ;;
    --acl-only) acl_only=1; shift ;;
    --reset) reset=1; shift ;;
    --remove) remove=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (try --help)" ;;
    *) specs="$specs $1"; shift ;;
    esac
done
[ -n "$prefixes" ] || prefixes=kvmgrid

# A prefix: levels of [A-Za-z0-9._-], no wildcard, no empty level, not starting with '$'.
for p in $prefixes; do
    printf '%s\n' "$p" | grep -Eq '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$' ||
        die "invalid prefix '$p' (levels of letters, digits, '.', '_', '-')"
done
first_prefix=$(echo $prefixes | cut -d' ' -f1)
if [ -n "$ha_prefix" ]; then
    printf '%s\n' "$ha_prefix" | grep -Eq '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$' ||
        die "invalid --ha-prefix '$ha_prefix' (levels of letters, digits, '.', '_', '-')"
fi

# The Home Assistant host id of an agent's name (kvmgrid/ha.h): the name when it
# is 1-32 of [A-Za-z0-9-]; else its first 32 bytes with every other byte as '_',
# '_' and the 64-bit FNV-1a hash of the name in hex. The hash is kept in two
# 32-bit halves so that sh's 64-bit signed arithmetic never overflows.
ha_host_id() {
    if printf '%s\n' "$1" | grep -Eq '^[A-Za-z0-9-]{1,32}$'; then
        echo "$1"
        return
    fi
    _hi=$((0xcbf29ce4)); _lo=$((0x84222325)); _rest=$1
    while [ -n "$_rest" ]; do
        _c=${_rest%"${_rest#?}"}; _rest=${_rest#?}
        _lo=$(( _lo ^ $(printf '%d' "'$_c") ))
        # h * 0x100000001b3 mod 2^64 = h * 0x1b3 + (h << 40)
        _m=$(( _lo * 0x1b3 ))
        _hi=$(( (_hi * 0x1b3 + (_m >> 32) + (_lo << 8)) & 0xffffffff ))
        _lo=$(( _m & 0xffffffff ))
    done
    printf '%s_%08x%08x\n' "$(printf '%.32s' "$1" | tr -c 'A-Za-z0-9-' '_')" "$_hi" "$_lo"
}

valid_name() { printf '%s\n' "$1" | grep -Eq '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'; }

# ROLE:NAME -> MQTT user name
user_of() {
    role=${1%%:*}; name=${1#*:}
    case "$role" in
    agent) echo "$name" ;;
    wall|load|operator|bridge) echo "$role@$name" ;;
    bridge-summary) echo "bridge@$name" ;;
    esac
}

check_spec() {
    case "$1" in *:*) ;; *) die "'$1': expected ROLE:NAME (e.g. agent:web-01)" ;; esac
    role=${1%%:*}; name=${1#*:}
    case "$role" in
    agent|wall|load|operator|bridge|bridge-summary) ;;
    *) die "'$1': unknown role '$role' (agent, wall, load, operator, bridge, bridge-summary)" ;;
    esac
    valid_name "$name" ||
        die "'$1': invalid name '$name' (1-63 of letters, digits, '.', '_', '-', starting with a letter or digit)"
}

for s in $specs; do check_spec "$s"; done

# The registry: previous users plus the new ones, in first-seen order.
all=""
if [ $acl_only -eq 0 ] && [ -f "$dir/users" ]; then
    # A hand-edited file may lack the final newline: read then fails on the last
    # line, which must still count.
    while IFS= read -r line || [ -n "$line" ]; do
        case "$line" in ''|'#'*) continue ;; esac
        check_spec "$line"
        all="$all $line"
    done < "$dir/users"
fi
if [ $remove -eq 1 ]; then
    [ -n "$specs" ] || die "--remove needs ROLE:NAME arguments"
    kept=""
    for s in $all; do
        case " $specs " in *" $s "*) ;; *) kept="$kept $s" ;; esac
    done
    for s in $specs; do
        case " $all " in *" $s "*) ;; *) die "'$s' is not a user in $dir/users" ;; esac
    done
    all=$kept
    specs_removed=$specs
    specs=""
else
    for s in $specs; do
        case " $all " in *" $s "*) ;; *) all="$all $s" ;; esac
    done
    [ -n "$all" ] || die "no users given (try --help)"
fi

# Two specs must not map to one user name (e.g. the same node twice is fine,
# a clash between agents and roles cannot happen since only agents lack '@';
# bridge:SITE and bridge-summary:SITE are both bridge@SITE: one or the other).
dups=$(for s in $all; do user_of "$s"; done | sort | uniq -d)
[ -z "$dups" ] || die "user name(s) given twice: $dups (a site is bridge:SITE or bridge-summary:SITE, not both)"

write_acl() {
    echo "# SPDX-License-Identifier: MIT"
    echo "# GENERATED by broker-config/mkusers.sh: kvmgrid's Mosquitto ACL. Do not edit; rerun mkusers.sh."
    echo "#"
    echo "# How Mosquitto 2.0 applies it: a client's own 'user' block is checked first —"
    echo "# any matching 'deny' line refuses, whatever the order; a matching grant allows;"
    echo "# otherwise the 'pattern' lines, which apply to EVERY user (%u = the user name),"
    echo "# are checked; no match = refused. Subscriptions are always accepted, reading is"
    echo "# checked per message delivered. A refused QoS 1 publish is acknowledged as"
    echo "# success in MQTT 3.1.1 (silently dropped) and with reason 0x87 in MQTT 5."
    echo "#"
    echo "# Agents (user name = host name) get their rights from the patterns, so adding"
    echo "# a hypervisor needs only a password. Every other role has a name with '@',"
    echo "# which no host name has, and its own block whose first line denies the topics"
    echo "# the agent patterns would otherwise open to it under <prefix>/<its name>/."
    echo
    echo "# -- agents: <prefix>/<host>/status, metrics and summary (retained), vm/<vm>"
    echo "#    (retained; read back at each connect to remove the VM topics left over from"
    echo "#    before)"
    for p in $prefixes; do
        echo "pattern write $p/%u/status"
        echo "pattern write $p/%u/metrics"
        echo "pattern write $p/%u/summary"
        echo "pattern readwrite $p/%u/vm/+"
    done
    if [ -n "$ha_prefix" ]; then
        echo
        echo "# -- agents, Home Assistant discovery: their configs (read back at each"
        echo "#    connect to empty the left-over ones) and Home Assistant's birth message"
        echo "pattern readwrite $ha_prefix/sensor/kvmgrid_%u/+/config"
        echo "pattern read $ha_prefix/status"
        for s in $all; do
            [ "${s%%:*}" = agent ] || continue
            id=$(ha_host_id "${s#*:}")
            [ "$id" = "${s#*:}" ] && continue
            echo
            echo "# -- agent ${s#*:}: its host id is not its name"
            echo "user ${s#*:}"
            echo "topic readwrite $ha_prefix/sensor/kvmgrid_$id/+/config"
        done
    fi
    # walls and operators also read (and operators command) every bridged site.
    readable=$prefixes
    for s in $all; do
        case "$s" in bridge:*|bridge-summary:*) readable="$readable ${s#*:}/$first_prefix" ;; esac
    done
    for s in $all; do
        role=${s%%:*}; name=${s#*:}; u=$(user_of "$s")
        [ "$role" = agent ] && continue
        echo
        echo "# -- $role $name"
        echo "user $u"
        for p in $prefixes; do echo "topic deny $p/$u/#"; done
        [ -z "$ha_prefix" ] || echo "topic deny $ha_prefix/sensor/kvmgrid_$u/#"
        case "$role" in
        wall)
            for p in $readable; do echo "topic read $p/#"; done ;;
        operator)
            for p in $readable; do echo "topic read $p/#"; echo "topic write $p/+/load/cmd"; done ;;
        load)
            for p in $prefixes; do
                echo "topic read $p/$name/load/cmd"
                echo "topic write $p/$name/load/state"
            done ;;
        bridge)
            r=$name/$first_prefix
            echo "topic write $r/+/status"
            echo "topic write $r/+/metrics"
            echo "topic write $r/+/summary"
            echo "topic write $r/+/vm/+"
            echo "topic write $r/+/load/state"
            echo "topic read $r/+/load/cmd" ;;
        bridge-summary)
            # bridge-summary.conf: status and summaries only, and the link state
            # ("1" on connect; "0" is the bridge's will, which mosquitto drops
            # when it fires if the user may not write its topic).
            r=$name/$first_prefix
            echo "topic write $r/+/status"
            echo "topic write $r/+/summary"
            echo "topic write $r/\$bridge/state"
            echo "topic read $r/+/load/cmd" ;;
        esac
    done
}

if [ $acl_only -eq 1 ]; then
    write_acl
    exit 0
fi

command -v mosquitto_passwd >/dev/null 2>&1 || die "mosquitto_passwd not found (Debian: apt-get install mosquitto)"
mkdir -p "$dir/credentials"
chmod 700 "$dir/credentials"

gen_password() {
    # 24 random bytes -> 32 characters of [A-Za-z0-9+/]; no ':' or newline.
    if command -v openssl >/dev/null 2>&1; then
        openssl rand -base64 24
    else
        head -c 24 /dev/urandom | base64
    fi
}

[ -f "$dir/passwd" ] || : > "$dir/passwd"
if [ $remove -eq 1 ]; then
    for s in $specs_removed; do
        u=$(user_of "$s")
        mosquitto_passwd -D "$dir/passwd" "$u" >/dev/null 2>&1 || die "mosquitto_passwd -D failed for $u"
        rm -f "$dir/credentials/$u.pass"
        echo "mkusers.sh: removed user $u ($s)" >&2
    done
fi
for s in $all; do
    u=$(user_of "$s")
    cred="$dir/credentials/$u.pass"
    is_new=0
    case " $specs " in *" $s "*) is_new=1 ;; esac
    if [ -f "$cred" ] && grep -q "^$u:" "$dir/passwd" && { [ $reset -eq 0 ] || [ $is_new -eq 0 ]; }; then
        continue  # keeps its password
    fi
    pw=$(gen_password)
    # The password goes through a pipe, never the command line (ps would show it).
    printf '%s\n%s\n' "$pw" "$pw" | mosquitto_passwd "$dir/passwd" "$u" >/dev/null 2>&1 ||
        die "mosquitto_passwd failed for user $u"
    printf '%s\n' "$pw" > "$cred.tmp"
    chmod 600 "$cred.tmp"
    mv "$cred.tmp" "$cred"
    echo "mkusers.sh: user $u ($s): password in $cred" >&2
    [ $print -eq 1 ] && printf '%s\t%s\n' "$u" "$pw"
done

printf '%s\n' $all > "$dir/users.tmp" && mv "$dir/users.tmp" "$dir/users"
write_acl > "$dir/acl.tmp" && mv "$dir/acl.tmp" "$dir/acl"

if [ "$(id -u)" -eq 0 ] && getent group mosquitto >/dev/null 2>&1; then
    chown root:mosquitto "$dir/passwd" "$dir/acl"
    chmod 640 "$dir/passwd" "$dir/acl"
else
    chmod 600 "$dir/passwd" "$dir/acl"
    echo "mkusers.sh: warning: not root (or no 'mosquitto' group): $dir/passwd and $dir/acl are mode 0600, owned by $(id -un); a broker that drops to user mosquitto needs them root:mosquitto 0640" >&2
fi
echo "mkusers.sh: $(printf '%s\n' $all | grep -c .) user(s); wrote $dir/passwd, $dir/acl. Reload the broker: systemctl reload mosquitto" >&2
