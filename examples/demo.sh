#!/bin/sh
# `make demo`: each action on real programs, with the statistics it produced;
# every run leaves a fault trace, and the last step reads them all into one
# report page.
set -u
B=build
LF=$B/lazyfault
D=/tmp/lazyfault-demo
T=$B/demo
rm -rf $T
mkdir -p $D $B/examples $T
for p in zero_fill sparse_read survive_sigbus; do
	cc -O2 -o $B/examples/$p examples/$p.c || exit 1
done

step() { printf '\n=== %s\n$ %s\n' "$1" "$2"; }

step "zero-fill: a C program's 256 MiB buffer served by the library" \
	"lazyfault run -v -r examples/zero.ini -- zero_fill 256"
$LF run -v -t $T/1.%p.trace -r examples/zero.ini -- $B/examples/zero_fill 256

step "zero-fill: python3 under the same rules" \
	"lazyfault run -v -r examples/zero.ini -- python3 -c 'mmap 64 MiB, sum it'"
$LF run -v -t $T/2.%p.trace -r examples/zero.ini -- /usr/bin/python3 -c \
	'import mmap; m = mmap.mmap(-1, 64 << 20, flags=mmap.MAP_PRIVATE); m[1 << 20] = 7; print("python3: sum =", sum(m[::4096]))'

head -c $((256 << 20)) /dev/urandom > $D/data.bin
step "lazy loading: 200 random records from a 256 MiB file" \
	"lazyfault run -v -r examples/load.ini -- sparse_read $D/data.bin 200"
$LF run -v -t $T/3.%p.trace -r examples/load.ini -- $B/examples/sparse_read $D/data.bin 200
echo "(bytes_read above is what was read of the 268435456-byte file)"

step "lazy loading: python3 hashes the same file through a read-only mapping, in order" \
	"lazyfault run -v -r examples/load.ini -- python3 -c 'mmap data.bin, sha256 it'"
$LF run -v -t $T/4.%p.trace -r examples/load.ini -- /usr/bin/python3 -c \
	'import hashlib, mmap; f = open("/tmp/lazyfault-demo/data.bin", "rb"); m = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ); print("python3: sha256", hashlib.sha256(m).hexdigest()[:16])'
sha256sum $D/data.bin | cut -c1-16 | sed 's/^/sha256sum:       /'
echo "(after about 4 MiB read in order, the rest of the mapping was handed to the kernel: 'handed')"

step "poison: a program that survives a poisoned page" \
	"lazyfault run -v -r examples/poison.ini -- survive_sigbus"
$LF run -v -t $T/5.%p.trace -r examples/poison.ini -- $B/examples/survive_sigbus

head -c 65536 /dev/urandom > $D/small.bin
step "poison: a storage error under a file mapping: python3 reads it all and dies of SIGBUS" \
	"lazyfault run -v -r examples/poison-file.ini -- python3 -c 'mmap small.bin, read it all'"
$LF run -v -t $T/6.%p.trace -r examples/poison-file.ini -- /usr/bin/python3 -c \
	'import mmap; f = open("/tmp/lazyfault-demo/small.bin", "rb"); m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY); print(len(m[:]))'
echo "exit status $? (128 + 7: SIGBUS)"

step "fail: the 3000th allocation of sqlite3 fails; it says so and exits" \
	"echo 'insert 20000 rows' | lazyfault run -v -r examples/fail.ini -- sqlite3 :memory:"
echo "create table t(x); insert into t select randomblob(1000) from generate_series(1, 20000); select count(*) from t;" |
	$LF run -v -t $T/7.%p.trace -r examples/fail.ini -- sqlite3 :memory:
echo "exit status $? (sqlite3's own, for out of memory)"
sqlite3 $D/demo.db "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000) INSERT INTO t SELECT x, printf('%0200d', x) FROM c;"
step "a bad disk block: page 20 of a sqlite database, read with pread, then through its shared mapping" \
	"lazyfault run -v -r examples/bad-disk.ini -- sqlite3 demo.db 'SELECT count(*) FROM t'"
$LF check -f $D/demo.db examples/bad-disk.ini | tail -1
$LF run -v -t $T/8.%p.trace -r examples/bad-disk.ini -- sqlite3 $D/demo.db 'SELECT count(*) FROM t'
echo "exit status $? (sqlite reports the EIO as a malformed database)"
$LF run -v -t $T/9.%p.trace -r examples/bad-disk.ini -- sqlite3 $D/demo.db 'PRAGMA mmap_size = 268435456' 'SELECT count(*) FROM t'
echo "exit status $? (128 + 7: SIGBUS in the shared mapping)"

step "the report of these runs: a heat map of each process's faults, its working set, service times, regions, allocation sites and poisonings" \
	"lazyfault report $T/*.trace -o $T/report.html --perfetto $T/perfetto.json"
$LF report $T/*.trace -o $T/report.html --perfetto $T/perfetto.json || exit 1
echo "report: $(pwd)/$T/report.html (open it in a browser; it needs no network)"
echo "timeline: $(pwd)/$T/perfetto.json (open it in https://ui.perfetto.dev or chrome://tracing)"
rm -rf $D
exit 0
