#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Writes a libvirt test-driver node XML with N running domains, each with two
# disks, one interface and a balloon: gen_node.py N OUT.xml
import sys
n, out = int(sys.argv[1]), sys.argv[2]
with open(out, "w") as f:
    f.write("<node>\n<cpu><mode>host-model</mode></cpu>\n")
    for i in range(n):
        f.write(f"""<domain type="test"><name>vm-{i:05d}</name>
<uuid>{i:08x}-0000-4000-8000-{i:012x}</uuid>
<memory>1048576</memory><currentMemory>524288</currentMemory><vcpu>2</vcpu>
<os><type>hvm</type></os><devices>
<disk type="file" device="disk"><source file="/b/{i}a.img"/><target dev="vda"/></disk>
<disk type="file" device="disk"><source file="/b/{i}b.img"/><target dev="vdb"/></disk>
<interface type="network"><mac address="52:54:{i >> 24 & 255:02x}:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"/><source network="default"/></interface>
<memballoon model="virtio"/></devices></domain>
""")
    f.write("</node>\n")
