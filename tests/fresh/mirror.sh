#!/bin/sh
# SPDX-License-Identifier: MIT
# kg_fresh_mirror: the first Debian mirror for "bookworm main" in apt's sources,
# one-line and deb822 formats, third-party and disabled entries skipped; none is
# a failure. And this machine's own sources name one (the fresh tests need it).
set -eu
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/fresh/fresh_lib.sh"

# APT_DIR FILE: writes stdin to APT_DIR/FILE.
put() { mkdir -p "$(dirname "$KG_TMP/$1/$2")"; cat > "$KG_TMP/$1/$2"; }
mirror_of() { kg_fresh_mirror "$KG_TMP/$1" || echo "none"; }

put oneline sources.list <<'EOF'
# deb http://commented.example/debian bookworm main
deb-src http://deb.debian.org/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/docker.gpg] https://download.docker.com/linux/debian bookworm stable
deb [arch=amd64 signed-by=/usr/share/keyrings/vendor.gpg] https://vendor.example/debian bookworm main
deb [ arch=amd64 ] https://deb.nodesource.com/node_20.x bookworm main
deb http://deb.debian.org/debian-security bookworm-security main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://ftp.fr.debian.org/debian/ bookworm contrib main non-free-firmware
deb http://deb.debian.org/debian bookworm main
EOF
kg_assert_eq "one-line: first Debian bookworm main, trailing slash dropped" \
    "http://ftp.fr.debian.org/debian" "$(mirror_of oneline)"

put deb822 sources.list.d/nodesource.sources <<'EOF'
Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main
EOF
put deb822 sources.list.d/google-cloud-sdk.list <<'EOF'
deb [signed-by=/usr/share/keyrings/cloud.google.gpg] https://packages.cloud.google.com/apt cloud-sdk main
EOF
put deb822 sources.list.d/old.sources.disabled <<'EOF'
Types: deb
URIs: http://disabled-file.example/debian
Suites: bookworm
Components: main
EOF
put deb822 sources.list.d/zz-debian.sources <<'EOF'
# a comment
Types: deb
URIs: http://off.example/debian
Suites: bookworm
Components: main
Enabled: no

Types: deb-src
URIs: http://src-only.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: https://vendor.example/debian
Suites: bookworm
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mQINBFxZ
 -----END PGP PUBLIC KEY BLOCK-----

Types: deb
URIs: https://other-vendor.example/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/other-vendor.gpg

Types: deb deb-src
URIs: ftp://nonsense.example/pub http://snapshot.debian.org/archive/debian/20250520T000000Z/
Suites: bookworm-updates bookworm
Components: contrib main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
kg_assert_eq "deb822: third-party (by path or key), disabled and source-only entries skipped" \
    "http://snapshot.debian.org/archive/debian/20250520T000000Z" "$(mirror_of deb822)"

put mixed sources.list <<'EOF'
deb https://deb.nodesource.com/node_20.x nodistro main
EOF
put mixed sources.list.d/debian.sources <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
EOF
kg_assert_eq "sources.list first, then sources.list.d" "http://deb.debian.org/debian" "$(mirror_of mixed)"

put nomatch sources.list <<'EOF'
deb http://deb.debian.org/debian bullseye main
deb http://deb.debian.org/debian bookworm contrib
EOF
kg_assert_eq "no bookworm main: none" none "$(mirror_of nomatch)"
kg_assert_eq "no apt directory at all: none" none "$(mirror_of missing)"
mkdir -p "$KG_TMP/empty/sources.list.d"
kg_assert_eq "empty sources.list.d: none" none "$(mirror_of empty)"

m=$(kg_fresh_mirror /etc/apt) || m=""
if [ -n "$m" ]; then kg_pass "this machine's mirror: $m"; else
    kg_fail "no Debian mirror for bookworm main in /etc/apt: the fresh tests cannot run"; fi
