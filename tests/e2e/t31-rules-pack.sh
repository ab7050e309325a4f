#!/bin/bash
# t31-rules-pack.sh - the built-in rule pack on the real parser: every rule
# in rules/ matches at least one line of a sample log written for it (no
# rule is dead), every alert carries the EN 319 401 7.9.1 tag and one of the
# eight category tags, and a log of routine activity raises nothing.
. "$(dirname "$0")/lib.sh"
E="$EVIDENT"
R="$EVIDENT_ROOT/rules"
python3 - "$T" <<'PY'
import sys
T = sys.argv[1]
L = []
def s(t, host, app, msg): L.append(f"Nov 24 {t} {host} {app}: {msg}")
for i in range(5):
    s(f"11:00:0{i}", "tsa1", "su[77]", "pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=pts/0 ruser=alice rhost=  user=root")
s("11:01:00", "tsa1", "sshd[5]", "Accepted publickey for root from 192.0.2.1 port 5555 ssh2: RSA SHA256:x")
for i in range(5):
    s(f"11:02:0{i}", "tsa1", f"sshd[{10+i}]", f"Failed password for invalid user admin from 203.0.113.9 port 4000{i} ssh2")
s("11:03:00", "tsa1", "restic[9]", "restore of snapshot 4f1a2b to /srv/restore started")
L.append('type=PATH msg=audit(1795518000.000:100): item=1 name="/etc/ssl/openssl.cnf" inode=5 nametype=NORMAL')
L.append('type=PATH msg=audit(1795518001.000:101): item=1 name="/etc/sudoers" inode=6 nametype=NORMAL')
s("11:03:10", "ca1", "pkcs11-tool[3]", "C_GenerateKeyPair: key pair generated on slot 0 label=ca-signing-2026")
s("11:03:20", "tsa1", "systemd[1]", "Stopping Security Auditing Service...")
s("11:03:30", "tsa1", "systemd-journald[2]", "Vacuuming done, freed 1.2G of archived journals from /var/log/journal.")
L.append('type=NETFILTER_CFG msg=audit(1795518002.000:102): table=filter family=2 entries=12 op=xt_replace pid=1 comm="iptables"')
for p in range(20):
    s("11:04:00", "fw1", "kernel", f"[UFW BLOCK] IN=eth0 OUT= MAC=00 SRC=192.0.2.66 DST=10.0.0.1 LEN=40 PROTO=TCP SPT=4444 DPT={1000+p} WINDOW=1024")
s("11:05:00", "tsa1", "sshd[1]", "Server listening on 0.0.0.0 port 2222.")
s("11:05:01", "tsa1", "kernel", "[ 99.1] device eth0 entered promiscuous mode")
s("11:05:02", "tsa1", "sudo[2]", "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash")
s("11:05:03", "tsa1", "sudo[3]", "    eve : user NOT in sudoers ; TTY=pts/1 ; PWD=/home/eve ; USER=root ; COMMAND=/bin/cat /etc/shadow")
s("11:05:04", "tsa1", "kernel", "[ 120.0] Out of memory: Killed process 1234 (java) total-vm:1000kB")
s("11:05:05", "tsa1", "upsmon[4]", "UPS ups@localhost on battery")
s("11:05:06", "door1", "pacs[1]", "Door Forced Open: server room B, reader 3")
s("11:05:07", "rtr1", "123", "%SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)")
s("11:05:08", "rtr1", "124", "%SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] [Source: 10.9.9.9]")
s("11:05:09", "rtr1", "125", "%LINEPROTO-5-UPDOWN: Line protocol on Interface Gi0/1, changed state to down")
L.append('type=KERN_MODULE msg=audit(1795518003.000:103): name="evil"')
s("11:05:10", "tsa1", "crontab[7]", "(root) REPLACE (root)")
s("11:05:11", "tsa1", "sudo[8]", "   alice : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/systemctl stop auditd")
s("11:05:12", "tsa1", "chronyd[9]", "Can't synchronise: no selectable sources")
s("11:05:13", "tsa1", "systemd-timedated[10]", "Set system time to Tue 2026-11-24 11:00:00 UTC.")
s("11:05:14", "tsa1", "useradd[11]", "new user: name=mallory, UID=0, GID=0, home=/root, shell=/bin/bash")
L.append('type=PATH msg=audit(1795518004.000:104): item=1 name="/root/.ssh/authorized_keys" inode=7 nametype=CREATE')
open(T + "/all.log", "w").write("\n".join(L) + "\n")
Q = []
def q(t, host, app, msg): Q.append(f"Nov 24 {t} {host} {app}: {msg}")
for i in range(50):
    q(f"12:00:{i:02d}", "web1", f"sshd[{100+i}]", f"Accepted publickey for deploy from 10.0.0.{i} port 5{i:04d} ssh2: RSA SHA256:abc")
    q(f"12:00:{i:02d}", "web1", f"sshd[{100+i}]", "pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)")
    q(f"12:00:{i:02d}", "web1", f"CRON[{300+i}]", "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
    q(f"12:00:{i:02d}", "web1", f"CRON[{300+i}]", "(root) CMD (/usr/local/bin/backup-check)")
    q(f"12:00:{i:02d}", "web1", "systemd[1]", f"Started Session {i} of User deploy.")
    q(f"12:00:{i:02d}", "web1", "systemd[1]", "Listening on D-Bus System Message Bus Socket.")
    q(f"12:00:{i:02d}", "web1", "chronyd[9]", "Selected source 192.0.2.123 (ntp.example.org)")
    q(f"12:00:{i:02d}", "web1", "kernel", f"[ {i}.0] EXT4-fs (sda1): mounted filesystem with ordered data mode")
    q(f"12:00:{i:02d}", "web1", "groupsd[1]", "started 3 groups and 2 backups for startups")
open(T + "/quiet.log", "w").write("\n".join(Q) + "\n")
PY

t_ok "the pack over the sample log (--all: base rules too)" "$E" --json rules test --all "$R" "$T/all.log"
cp "$T/.out" "$T/all.json"
MISSING=$(python3 - "$R" "$T/all.json" <<'PY'
import glob, json, re, sys
got = {json.loads(l)["rule"] for l in open(sys.argv[2])}
ids = set()
for f in glob.glob(sys.argv[1] + "/*.yml"):
    ids |= set(re.findall(r"^id: (\S+)", open(f).read(), re.M))
print(len(ids), " ".join(sorted(ids - got)))
PY
)
t_like "the pack has 30 or more rules" '^(3[0-9]|[4-9][0-9]) ' "$MISSING"
t_is "every rule matches a line written for it" "" "${MISSING#* }"
BADTAGS=$(python3 - "$T/all.json" <<'PY'
import json, sys
cats = {"network", "users", "admin", "config", "security", "resources", "physical", "netdevices"}
for l in open(sys.argv[1]):
    m = json.loads(l)
    t = m["tags"]
    if "en319401.7.9.1" not in t or not any(x.startswith("en319401.7.9.1.") and x.split(".")[-1] in cats for x in t):
        print(m["rule"])
PY
)
t_is "every alert carries en319401.7.9.1 and a category tag" "" "$BADTAGS"
t_ok "the pack over routine activity" "$E" rules test --all "$R" "$T/quiet.log"
t_is "routine activity raises nothing" "" "$(out)"
t_done
