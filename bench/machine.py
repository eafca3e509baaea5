"""What kind of machine the bench runs on, and the THP setting, which
change every figure: a PVM guest traps every page fault to its hypervisor
(a kernel first touch there costs ~10x a KVM guest's or bare metal's), and
THP `always` makes the kernel zero a huge page before each write fault in a
registered range.  Standard library only."""
import atexit
import os
import re
import signal
import subprocess

THP = "/sys/kernel/mm/transparent_hugepage/enabled"


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def kind():
    """(kind, how it was told): "PVM guest", "KVM guest", "<name> guest",
    "bare metal" or "unknown"."""
    try:
        log = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        log = ""
    m = re.search(r"Hypervisor detected: (\S+)", log)
    pvm = re.search(r"\bPVM\b", log)
    if pvm:
        return "PVM guest", "dmesg: %s" % pvm.string[max(0, pvm.start() - 40):pvm.end() + 20].strip()
    if m:
        return "%s guest" % m.group(1), "dmesg: %s" % m.group(0)
    hv = _read("/sys/hypervisor/type").strip()
    if hv:
        return "%s guest" % hv, "/sys/hypervisor/type: %s" % hv
    # The boot lines leave the kernel's ring buffer after a while; the
    # paravirtual clock stays.  PVM guests run on KVM too and may offer it:
    # the kernel's own first touch in the tables tells them apart (about
    # 2 us a page on a KVM guest, 12 us on PVM).
    if "kvm-clock" in _read("/sys/devices/system/clocksource/clocksource0/available_clocksource"):
        return "KVM guest", ("clocksource kvm-clock (no \"Hypervisor detected\" left in dmesg; "
                             "a PVM guest would show a kernel first touch near 12 us a page)")
    flags = ""
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("flags"):
            flags = line
            break
    if not flags:
        return "unknown", "no dmesg, /sys/hypervisor nor cpuinfo flags"
    if " hypervisor" in flags:
        return "virtual machine", "cpuid: hypervisor bit set (dmesg unreadable)"
    return "bare metal", "cpuid: no hypervisor bit"


def free_page_reporting():
    """True where a virtio balloon reports the guest's free pages to its host
    (feature bit 5, VIRTIO_BALLOON_F_REPORTING): memory freed by one run
    comes back cold to the next unless something touches it first."""
    base = "/sys/bus/virtio/drivers/virtio_balloon"
    try:
        devices = [d for d in os.listdir(base) if d.startswith("virtio")]
    except OSError:
        return False
    for d in devices:
        bits = _read(os.path.join(base, d, "features")).strip()
        if len(bits) > 5 and bits[5] == "1":
            return True
    return False


def thp():
    """The THP setting: always, madvise or never ("?" unknown)."""
    m = re.search(r"\[(\w+)\]", _read(THP))
    return m.group(1) if m else "?"


def thp_settable():
    return os.geteuid() == 0 and os.access(THP, os.W_OK)


_saved = []


def _restore(*_):
    while _saved:
        value = _saved.pop()
        try:
            with open(THP, "w") as f:
                f.write(value)
        except OSError:
            pass


def _on_signal(sig, frame):
    _restore()
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)


class thp_set:
    """`with thp_set("always"):` the setting inside, the old one put back
    however the block ends, at exit, and on SIGINT/SIGTERM/SIGHUP."""

    def __init__(self, value):
        self.value = value

    def __enter__(self):
        old = thp()
        if not _saved:
            atexit.register(_restore)
            for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(s, _on_signal)
        _saved.append(old)
        with open(THP, "w") as f:
            f.write(self.value)
        return self

    def __exit__(self, *exc):
        _restore()
        return False
