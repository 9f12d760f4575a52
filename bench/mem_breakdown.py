"""What a running `slawatch serve` holds, by kind: a gdb script (bench/README.md, "h21mem").

    gdb -p PID -batch -ex 'source bench/mem_breakdown.py' -ex 'mem-breakdown OUT.txt'

Attaches to the daemon (it stops while the script reads, seconds at 1,000 services), finds the
daemon object in the tick thread's sw_daemon_run frame and walks what it owns: every series'
latency windows (by window kind and representation: compact pairs, a dense range or pages, and
their bytes as allocated: a compact block of sp_cap pairs, a range of c_n slots, the pages'
directory and each page's block of 64 counts at its width), its history rings and
the packed intervals they hold, its slice verdicts, the gate's sides, the /metrics totals and the snapshot's kept
bodies; then glibc's own account of the heap (malloc_info: the arenas, what they hold in use and
what is free but kept). Needs a build with debug information (meson's default debugoptimized).
"""
import collections
import struct
import traceback

import gdb

KINDS = {0: "sliding", 1: "month", 2: "hourly"}


def find_daemon():
    for thread in gdb.selected_inferior().threads():
        if thread.num != 1:
            continue
        thread.switch()
        frame = gdb.newest_frame()
        while frame is not None:
            if frame.name() == "sw_daemon_run":
                return frame.read_var("d")
            frame = frame.older()
    raise gdb.GdbError("no sw_daemon_run frame in thread 1")


class Tally:
    def __init__(self):
        self.bytes = collections.Counter()
        self.count = collections.Counter()
        self.slots = collections.Counter()

    def add(self, key, nbytes, slots=0):
        self.bytes[key] += nbytes
        self.count[key] += 1
        self.slots[key] += slots


def sizeof(struct):
    return gdb.lookup_type("struct " + struct).sizeof


def paged_bytes(h):
    """A paged histogram's directory and blocks (core/hdr_paged.c), and its slots."""
    pg = h["pages"].dereference()
    n = int(pg["n"])
    inferior = gdb.selected_inferior()
    blocks = struct.unpack(f"<{n}Q", bytes(inferior.read_memory(int(pg["block"]), 8 * n)))
    shifts = bytes(inferior.read_memory(int(pg["shift"]), n))
    nbytes = sizeof("sw_hdr_pages") + n * (8 + 8 + 1)
    nbytes += sum(64 << shifts[p] for p in range(n) if blocks[p] != 0)
    return nbytes, 64 * n


def hdr(tally, key, ptr):
    if int(ptr) == 0:
        return
    h = ptr.dereference()
    header = sizeof("sw_hdr")
    paged = any(f.name == "paged" for f in h.type.strip_typedefs().fields())  # a tree before
    if paged and bool(h["paged"]):
        nbytes, slots = paged_bytes(h)
        tally.add(key + " pages", header + nbytes, slots)
    elif int(h["counts"]) != 0:
        tally.add(key + " range", header + 8 * int(h["c_n"]), int(h["c_n"]))
    elif int(h["sp_cap"]) > 0:
        tally.add(key + " pairs", header + 12 * int(h["sp_cap"]), int(h["sp_n"]))
    else:
        tally.add(key + " empty", header)


def chist_bytes(ptr):
    return sizeof("sw_chist") + int(ptr.dereference()["len"]) if int(ptr) != 0 else 0


def chunk_bytes(ptr):
    """What glibc's chunk of a malloc'd pointer takes (its size field, flags masked): the ring's
    blocks are allocated at their coded size and keep no count of it."""
    return int(gdb.parse_and_eval(f"*(unsigned long *)({int(ptr)} - 8)")) & ~7


def ring(tally, key, r):
    """A compact ring: its block array, each block's coded bytes as allocated."""
    tally.add(key + " ring blocks", int(r["block_cap"]) * sizeof("sw_ring_block"),
              int(r["end"]) - int(r["first"]))
    blocks, head, cap = r["blocks"], int(r["block_head"]), int(r["block_cap"])
    for k in range(int(r["n_blocks"])):
        tally.add(key + " ring coded", chunk_bytes(blocks[(head + k) % cap]["data"]))


def latency_ring(tally, hist):
    """The recent base intervals' histograms, in a ring of their own."""
    cap, head, first = int(hist["lat_cap"]), int(hist["lat_head"]), int(hist["latency_first"])
    live = max(0, int(hist["level"][0]["end"]) - first)
    tally.add("history latency ring", cap * sizeof("sw_lat_rec"), live)
    for k in range(live):
        n = chist_bytes(hist["lat"][(head + k) % cap]["latency"])
        if n:
            tally.add("history packed intervals", n)


def slices(tally, s):
    """The slice-judged objectives' verdicts (a ring of a month of 1-minute slices), as
    allocated: the tree's bits a verdict, whatever they are, are in the chunk's size."""
    for o in range(int(s["rules"].dereference()["n_objectives"])):
        p = s["slices"][o]
        if int(p) == 0:
            continue
        sl = p.dereference()
        held = int(sl["next"]) - int(sl["first"]) if int(sl["cap"]) else 0
        verdicts = chunk_bytes(sl["verdict"]) if int(sl["verdict"]) != 0 else 0
        tally.add("slice verdicts", sizeof("sw_slices") + verdicts, held)


def series(tally, s):
    plan = s["plan"].dereference()
    for i in range(int(plan["n_lat"])):
        kind = KINDS.get(int(plan["lat"][i]["kind"]), "?")
        length = int(plan["lat"][i]["length_ms"]) // 1000
        w = s["lat"][i]
        name = f"window {kind}" + (f" {length}s" if kind != "month" else "")
        hdr(tally, name + " acc", w["acc"])
        hdr(tally, name + " build", w["build"])
        hdr(tally, name + " view", w["view"])
        for k in range(int(w["n_hours"])):
            tally.add(name + " packed hours", chist_bytes(w["hours"][k]))
    hist = s["hist"]
    for lvl, lname in enumerate(("base", "minute", "hour")):
        ring(tally, f"history {lname}", hist["level"][lvl])
        if int(hist["maint"]) != 0:  # made at a series' first interval in maintenance
            ring(tally, f"history maint {lname}", hist["maint"][lvl])
    latency_ring(tally, hist)
    slices(tally, s)
    if int(s["gate"]) != 0:
        for side in range(2):
            hdr(tally, "gate side", s["gate"]["lat"][side])


def totals(tally, d):
    t = d["totals"]
    for i in range(int(t["n"])):
        lt = t["series"][i]["latency_totals"]
        if int(lt) == 0:
            continue
        lt = lt.cast(gdb.lookup_type("struct sw_expo_totals").pointer()).dereference()
        nb = int(lt["n_bounds"])
        tally.add("/metrics totals", sizeof("sw_expo_totals") + nb * 16 + (nb + 1) * 8 +
                  int(lt["native_len"]) * 8)


def snapshot(tally, d):
    snap = d["snapshot"]
    if int(snap) == 0:
        return
    bodies = [(f"snapshot body format {f}", snap["bodies"][f]["body"]) for f in range(3)]
    for key, body in bodies + [("snapshot body status", snap["status"]["body"])]:
        if int(body) != 0:
            tally.add(key, int(body["cap"]), int(body["len"]))


def walk(out):
    d = find_daemon()
    tally = Tally()
    ev = d["ev"].dereference()
    for i in range(int(ev["n_series"])):
        try:
            series(tally, ev["series"][i].dereference())
        except gdb.MemoryError:
            tally.add("series unreadable (changing while stopped?)", 0)
            out.write(traceback.format_exc())
    try:
        totals(tally, d)
    except gdb.MemoryError:
        out.write(traceback.format_exc())
    try:
        snapshot(tally, d)
    except gdb.MemoryError:
        out.write(traceback.format_exc())
    out.write(f"series {int(ev['n_series'])}\n")
    out.write(f"{'kind':48} {'n':>8} {'bytes':>14} {'slots/pairs/recs':>16}\n")
    for key in sorted(tally.bytes, key=lambda k: -tally.bytes[k]):
        out.write(f"{key:48} {tally.count[key]:8} {tally.bytes[key]:14} {tally.slots[key]:16}\n")
    held = sum(v for k, v in tally.bytes.items() if "not held" not in k)
    out.write(f"{'total walked':48} {'':8} {held:14}\n")


def malloc_info(path):
    f = gdb.parse_and_eval(f'(void *)fopen("{path}", "w")')
    gdb.parse_and_eval(f"(int)malloc_info(0, (void *){int(f)})")
    gdb.parse_and_eval(f"(int)fclose((void *){int(f)})")


class MemBreakdown(gdb.Command):
    """mem-breakdown OUT: the daemon's memory by kind into OUT, glibc's malloc_info into OUT.xml."""

    def __init__(self):
        super().__init__("mem-breakdown", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        path = arg.strip()
        malloc_info(path + ".xml")
        with open(path, "w") as out:
            walk(out)


MemBreakdown()
