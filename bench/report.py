#!/usr/bin/env python3
"""Turns the raw per-run lines written by scripts/bench.sh into markdown.

usage: report.py RAW VERSIONS > latest.md

RAW has one line per (case, target, repeat): space-separated key=value pairs
(case, target, rep, verify, backend, then sy_bench_load's RESULT fields).
VERSIONS has key=value lines (tool versions, machine, run parameters).
"""
import statistics
import sys

TARGETS = ["direct", "sy-1", "sy-1-nolog", "sy-auto", "sy-2", "sy-2-exact", "nginx", "haproxy", "nghttpx", "l4"]
PEERS = ["nginx", "haproxy", "nghttpx"]
SWITCHYARD = ["sy-1", "sy-1-nolog", "sy-auto", "sy-2", "sy-2-exact"]
LABEL = {
    "direct": "direct (no proxy)",
    "sy-1": "Switchyard, workers: 1 (defaults: access log to a file)",
    "sy-1-nolog": "Switchyard, workers: 1, access_log: off",
    "sy-auto": "Switchyard, workers: auto",
    "sy-2": "Switchyard, workers: 2, connection_balance: kernel",
    "sy-2-exact": "Switchyard, workers: 2 (default connection_balance: exact)",
    "nginx": "nginx grpc_pass",
    "haproxy": "HAProxy h2",
    "nghttpx": "nghttpx h2",
    "l4": "L4 floor (HAProxy tcp)",
}
THROUGHPUT_CASES = [
    ("unary16", "RPC", "unary, 16 B, 4 conns x 16 streams"),
    ("unary64k", "RPC", "unary, 64 KiB each way, 4 conns x 4 streams"),
    ("stream", "msg", "server stream, 1 KiB messages, 4 conns x 4 streams"),
    ("bidi", "round trip", "bidi ping-pong, 16 B, 4 conns x 16 streams"),
    ("tls", "RPC", "unary 16 B, TLS client to proxy, 4 conns x 16 streams"),
    ("tlsup", "RPC", "unary 16 B, TLS client to proxy and proxy to backend, 4 conns x 16 streams"),
    ("mtls", "RPC", "unary 16 B, as tlsup with a verified client certificate, 4 conns x 16 streams"),
    ("ratelimit16", "RPC", "unary16 through a rate_limit keyed by client_ip that is never hit"),
    ("jwtrl16", "RPC", "unary16 through JWT auth (RS256) and a rate_limit keyed by jwt:sub that is never hit"),
    ("latency", "RPC", "one unary 16 B RPC at a time"),
    ("h2load16", "RPC", "unary 16 B, h2load -c 16 -m 32 (counts checked at the backend)"),
    ("h2load-web16", "RPC", "h2load16 as gRPC-Web (application/grpc-web+proto), Switchyard only"),
    ("h2load-json16", "RPC", "h2load16 as JSON transcoding (POST /v1/bench/unary), Switchyard only"),
]
CONC_CASES = [("conc10", "10"), ("conc1k", "1,000"), ("conc10k", "10,000")]
UNARY_RSS_CASES = ["unary16", "unary64k", "tls", "tlsup", "mtls", "h2load16"]


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            kv = {}
            for tok in line.split():
                if "=" in tok:
                    k, v = tok.split("=", 1)
                    kv[k] = v
            if "case" in kv:
                rows.append(kv)
    return rows


def num(row, key):
    try:
        v = float(row.get(key, ""))
    except ValueError:
        return None
    return None if v < 0 else v


class Cell:
    """All repeats of one (case, target)."""

    def __init__(self, rows):
        self.rows = rows
        self.failed = [r.get("verify", "?").removeprefix("FAIL:") for r in rows if r.get("verify") != "ok"]

    def values(self, key):
        return [v for v in (num(r, key) for r in self.rows) if v is not None]

    def median(self, key):
        v = self.values(key)
        return statistics.median(v) if v else None

    def max(self, key):
        v = self.values(key)
        return max(v) if v else None

    def spread(self, key, fmt):
        v = self.values(key)
        if not v:
            return "—"
        med = fmt(statistics.median(v))
        if len(v) == 1:
            return med
        return f"{med} ({fmt(min(v))}–{fmt(max(v))})"

    @property
    def ok(self):
        return bool(self.rows) and not self.failed


def f_rate(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def f_us(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def f_mib(kb):
    return f"{kb / 1024:.1f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}×"


def main():
    rows = parse(sys.argv[1])
    meta = {}
    with open(sys.argv[2]) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    cells = {}
    for r in rows:
        cells.setdefault((r["case"], r["target"]), []).append(r)
    cells = {k: Cell(v) for k, v in cells.items()}

    def cell(c, t):
        return cells.get((c, t))

    out = []
    w = out.append
    w("# Switchyard benchmark results")
    w("")
    w(f"- Duration per run: {meta.get('duration')} s measured after {meta.get('warmup')} s warm-up; "
      f"repeats: {meta.get('repeat')}; commit {meta.get('commit')}")
    w(f"- Machine: {meta.get('nproc')} CPUs, {meta.get('cpu')}, Linux {meta.get('kernel')}")
    w(f"- Versions: switchyard {meta.get('switchyard')}, nginx {meta.get('nginx')}, HAProxy {meta.get('haproxy')}, "
      f"nghttpx {meta.get('nghttpx')}, h2load {meta.get('h2load')}, gRPC {meta.get('grpc')}")
    w("- Cells with repeats show `median (min–max)`. CPU is the proxy process's utime+stime over the "
      "measurement window divided by the units completed in it. Peak RSS is the proxy's VmHWM.")
    w("- Backend, load generator and proxy share the machine's CPUs, so rates are relative, "
      "not capacity figures; CPU per unit is the comparable number.")
    w("")

    gates = []  # (name, target, value, limit, passed)

    for case, unit, desc in THROUGHPUT_CASES:
        present = [t for t in TARGETS if cell(case, t)]
        if not present:
            continue
        w(f"## {case}: {desc}")
        w("")
        w(f"| target | verified | {unit}/s | p50 µs | p99 µs | proxy CPU µs/{unit} | peak RSS MiB | rate vs direct "
          f"| CPU vs best peer | CPU vs L4 |")
        w("|---|---|---|---|---|---|---|---|---|---|")
        direct = cell(case, "direct")
        peer_cpu = [cell(case, p).median("proxy_cpu_us_per_unit") for p in PEERS if cell(case, p)]
        peer_cpu = [v for v in peer_cpu if v is not None]
        best_peer = min(peer_cpu) if peer_cpu else None
        l4 = cell(case, "l4")
        l4_cpu = l4.median("proxy_cpu_us_per_unit") if l4 else None
        for t in present:
            c = cell(case, t)
            ver = "ok" if c.ok else "FAIL: " + ", ".join(sorted(set(c.failed)))
            cpu = c.median("proxy_cpu_us_per_unit")
            hwm = c.max("proxy_hwm_kb")
            rate = c.median("rate")
            w(f"| {LABEL[t]} | {ver} | {c.spread('rate', f_rate)} | {c.spread('p50_us', f_us)} "
              f"| {c.spread('p99_us', f_us)} | {c.spread('proxy_cpu_us_per_unit', f_us) if t != 'direct' else '—'} "
              f"| {f_mib(hwm) if hwm else '—'} | {ratio(rate, direct.median('rate') if direct else None)} "
              f"| {ratio(cpu, best_peer) if t != 'direct' else '—'} | {ratio(cpu, l4_cpu) if t != 'direct' else '—'} |")
        w("")
        for t in SWITCHYARD:
            c = cell(case, t)
            if not c or best_peer is None:
                continue
            cpu = c.median("proxy_cpu_us_per_unit")
            limit = 0.6 * best_peer
            if l4_cpu is not None:
                limit = max(limit, 1.1 * l4_cpu)
            gates.append((f"CPU/{unit} {case}", t, f"{f_us(cpu)} µs" if cpu is not None else "—",
                          f"≤ {f_us(limit)} µs", cpu is not None and cpu <= limit and c.ok))
        on, off = cell(case, "sy-1"), cell(case, "sy-1-nolog")
        if case == "unary16" and on and off and off.median("proxy_cpu_us_per_unit"):
            extra = on.median("proxy_cpu_us_per_unit") / off.median("proxy_cpu_us_per_unit") - 1
            gates.append(("access log CPU per RPC (unary16, sy-1 vs sy-1-nolog)", "sy-1", f"{extra * 100:+.1f} %",
                          "≤ 5 %", extra <= 0.05 and on.ok and off.ok))
        ha = cell(case, "haproxy")
        if case == "tls" and ha and ha.median("proxy_cpu_us_per_unit") is not None:
            lim = ha.median("proxy_cpu_us_per_unit")
            for t in SWITCHYARD:
                c = cell(case, t)
                if c and c.median("proxy_cpu_us_per_unit") is not None:
                    cpu = c.median("proxy_cpu_us_per_unit")
                    gates.append(("CPU/RPC tls vs HAProxy", t, f"{f_us(cpu)} µs", f"≤ {f_us(lim)} µs (HAProxy)",
                                  cpu <= lim and c.ok))
        if case == "latency" and direct and l4:
            d50 = direct.median("p50_us")
            l4_added = l4.median("p50_us") - d50 if l4.median("p50_us") is not None and d50 is not None else None
            w("Added p50 latency over direct: " + ", ".join(
                f"{LABEL[t]} {f_us(cell(case, t).median('p50_us') - d50)} µs"
                for t in present if t != "direct" and cell(case, t).median("p50_us") is not None and d50 is not None))
            w("")
            for t in SWITCHYARD:
                c = cell(case, t)
                if not c or l4_added is None or c.median("p50_us") is None:
                    continue
                added = c.median("p50_us") - d50
                limit = 1.1 * max(l4_added, 0.0)
                gates.append(("added p50, one at a time", t, f"{f_us(added)} µs", f"≤ {f_us(limit)} µs",
                              added <= limit and c.ok))

    # Multi-core: workers: 2 against workers: 1 on unary16.
    one = cell("unary16", "sy-1")
    multi = [t for t in ("sy-auto", "sy-2", "sy-2-exact") if cell("unary16", t)]
    if one and multi and one.median("rate"):
        w("## Multi-core: unary16 with more workers")
        w("")
        w(f"Pinned (proxy on CPUs 0-1, load and backend elsewhere): {meta.get('pinned', 'no')}. Efficiency is "
          "the rate with N workers ÷ (N × the rate with one); on a machine where the load generator and the "
          "backend share the proxy's cores it mostly shows who they compete with.")
        w("")
        w("| target | RPC/s | vs workers: 1 | efficiency | proxy CPU µs/RPC |")
        w("|---|---|---|---|---|")
        base = one.median("rate")
        w(f"| {LABEL['sy-1']} | {one.spread('rate', f_rate)} | 1.00× | 100 % | {one.spread('proxy_cpu_us_per_unit', f_us)} |")
        for t in multi:
            c = cell("unary16", t)
            n = 2 if t.startswith("sy-2") else int(meta.get("nproc", "2"))
            r = c.median("rate")
            w(f"| {LABEL[t]} | {c.spread('rate', f_rate)} | {ratio(r, base)} "
              f"| {r / (n * base) * 100:.0f} % | {c.spread('proxy_cpu_us_per_unit', f_us)} |")
        w("")

    # Latency under load: open loop at 50 % and 90 % of each target's saturating rate.
    present = [t for t in TARGETS if cell("open50", t) or cell("open90", t)]
    if present:
        w("## Latency under load: open loop, unary 16 B, 4 conns, at 50 % and 90 % of saturation")
        w("")
        w("Fixed arrival rate (`sy_bench_load --rate`), latency from each RPC's scheduled start, so "
          "queueing is not hidden by the client waiting (no coordinated omission). Saturation is the "
          "target's median closed-loop `unary16` rate in this run.")
        w("")
        w("| target | verified | saturating RPC/s | @50 %: RPC/s | p50 µs | p99 µs | p999 µs "
          "| @90 %: RPC/s | p50 µs | p99 µs | p999 µs | proxy CPU µs/RPC @90 % |")
        w("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for t in present:
            cs = [cell("open50", t), cell("open90", t)]
            ok = all(c and c.ok for c in cs)
            fails = sorted({f for c in cs if c for f in c.failed})
            sat = next((c.median("saturating_rps") for c in cs if c and c.median("saturating_rps")), None)
            cols = []
            for c in cs:
                if not c:
                    cols += ["—"] * 4
                    continue
                cols += [c.spread("rate", f_rate), c.spread("p50_us", f_us), c.spread("p99_us", f_us),
                         c.spread("p999_us", f_us)]
            cpu90 = cs[1].spread("proxy_cpu_us_per_unit", f_us) if cs[1] and t != "direct" else "—"
            w(f"| {LABEL[t]} | {'ok' if ok else 'FAIL: ' + ', '.join(fails)} | {f_rate(sat) if sat else '—'} | "
              + " | ".join(cols) + f" | {cpu90} |")
        w("")
        for case, pct in (("open50", "50 %"), ("open90", "90 %")):
            peers = [cell(case, p).median("p99_us") for p in PEERS if cell(case, p) and cell(case, p).ok]
            peers = [v for v in peers if v is not None]
            if not peers:
                continue
            best = min(peers)
            for t in SWITCHYARD:
                c = cell(case, t)
                if not c or c.median("p99_us") is None:
                    continue
                p99 = c.median("p99_us")
                gates.append((f"p99 at {pct} of saturation (open loop)", t, f"{f_us(p99)} µs",
                              f"≤ {f_us(best)} µs (best peer)", p99 <= best and c.ok))

    # Concurrency scaling.
    present = [t for t in TARGETS if t != "direct" and any(cell(c, t) for c, _ in CONC_CASES)]
    if present:
        w("## Concurrency: unary 16 B at 10, 1,000 and 10,000 concurrent streams")
        w("")
        head = " | ".join(f"CPU µs/RPC @{n}" for _, n in CONC_CASES)
        rss = " | ".join(f"peak RSS MiB @{n}" for _, n in CONC_CASES)
        w(f"| target | verified | {head} | CPU spread vs @10 | {rss} |")
        w("|---|---|" + "---|" * (2 * len(CONC_CASES) + 1))
        for t in present:
            cs = [cell(c, t) for c, _ in CONC_CASES]
            ok = all(c and c.ok for c in cs)
            fails = sorted({f for c in cs if c for f in c.failed})
            cpus = [c.median("proxy_cpu_us_per_unit") if c else None for c in cs]
            base = cpus[0]
            dev = [abs(v / base - 1) for v in cpus[1:] if v is not None and base]
            spread = f"±{max(dev) * 100:.0f} %" if dev else "—"
            w(f"| {LABEL[t]} | {'ok' if ok else 'FAIL: ' + ', '.join(fails)} | "
              + " | ".join(c.spread('proxy_cpu_us_per_unit', f_us) if c else "—" for c in cs)
              + f" | {spread} | "
              + " | ".join(f_mib(c.max('proxy_hwm_kb')) if c and c.max('proxy_hwm_kb') else "—" for c in cs) + " |")
            if t in SWITCHYARD:
                gates.append(("CPU/RPC flat 10 → 10,000 streams", t, spread, "≤ ±20 %",
                              ok and bool(dev) and len(dev) == len(cpus) - 1 and max(dev) <= 0.2))
        w("")

    # Idle connections.
    present = [t for t in TARGETS if cell("idle", t)]
    if present:
        w("## Idle HTTP/2 client connections")
        w("")
        w("| target | verified | connections held | RSS before MiB | RSS held MiB | bytes per connection |")
        w("|---|---|---|---|---|---|")
        for t in present:
            c = cell("idle", t)
            ver = "ok" if c.ok else "FAIL: " + ", ".join(sorted(set(c.failed)))
            w(f"| {LABEL[t]} | {ver} | {c.spread('units', lambda v: f'{v:,.0f}')} "
              f"| {c.spread('rss_before_kb', f_mib)} | {c.spread('rss_held_kb', f_mib)} "
              f"| {c.spread('bytes_per_conn', lambda v: f'{v:,.0f}')} |")
        w("")
        ha = cell("idle", "haproxy")
        for t in SWITCHYARD:
            c = cell("idle", t)
            if not c or not ha or c.median("bytes_per_conn") is None or ha.median("bytes_per_conn") is None:
                continue
            per, lim = c.median("bytes_per_conn"), ha.median("bytes_per_conn")
            gates.append(("memory per idle HTTP/2 connection", t, f"{per:,.0f} B", f"≤ {lim:,.0f} B (HAProxy)",
                          per <= lim and c.ok))

    # Big stream to a slow reader.
    present = [t for t in TARGETS if cell("bigstream", t)]
    if present:
        w("## One large server stream to a slow reader")
        w("")
        w("| target | verified | MiB/s | bytes | proxy RSS before MiB | peak MiB | growth MiB | proxy CPU µs/64 KiB msg |")
        w("|---|---|---|---|---|---|---|---|")
        for t in present:
            c = cell("bigstream", t)
            ver = "ok" if c.ok else "FAIL: " + ", ".join(sorted(set(c.failed)))
            w(f"| {LABEL[t]} | {ver} | {c.spread('mib_per_s', lambda v: f'{v:.0f}')} "
              f"| {c.spread('bytes', lambda v: f'{v:,.0f}')} | {c.spread('rss_before_kb', f_mib)} "
              f"| {c.spread('rss_peak_kb', f_mib)} | {c.spread('rss_growth_kb', f_mib)} "
              f"| {c.spread('proxy_cpu_us_per_unit', f_us)} |")
            if t in SWITCHYARD:
                g = c.max("rss_growth_kb")
                gates.append(("1 GiB stream RSS growth", t, f"{f_mib(g)} MiB" if g is not None else "—",
                              "≤ 16 MiB", g is not None and g <= 16 * 1024 and c.ok))
        w("")

    # Peak RSS under unary load.
    for t in SWITCHYARD:
        hw = [cell(c, t).max("proxy_hwm_kb") for c in UNARY_RSS_CASES if cell(c, t)]
        hw = [v for v in hw if v is not None]
        if hw:
            gates.append(("peak RSS under unary load", t, f"{f_mib(max(hw))} MiB", "≤ 20 MiB", max(hw) <= 20 * 1024))

    cgs = [(t, cell("callgrind", t)) for t in ("sy-1", "sy-1-nolog")]
    cgs = [(t, c) for t, c in cgs if c]
    if cgs:
        w("## Instructions per RPC (callgrind)")
        w("")
        w("| target | verified | RPCs | instructions | instructions per RPC |")
        w("|---|---|---|---|---|")
        for t, cg in cgs:
            r = cg.rows[-1]
            w(f"| {LABEL[t]} | {r.get('verify')} | {int(float(r.get('rpcs', 0))):,} "
              f"| {int(float(r.get('instructions', 0))):,} | {int(float(r.get('ir_per_rpc', 0))):,} |")
        w("")
        per_rpc = {t: float(cg.rows[-1].get("ir_per_rpc", 0)) for t, cg in cgs}
        if per_rpc.get("sy-1", 0) > 0:
            gates.append(("instructions per unary 16 B RPC (callgrind, access log on)", "sy-1",
                          f"{int(per_rpc['sy-1']):,}", "≤ 30,000", per_rpc["sy-1"] <= 30000))
        log_rows = [cg.rows[-1] for t, cg in cgs if t == "sy-1"]
        log_ir = float(log_rows[0].get("log_ir_per_rpc", 0)) if log_rows else 0
        if per_rpc.get("sy-1-nolog", 0) > 0 and log_ir > 0:
            # The instructions spent in the access-log code itself, against the
            # per-RPC cost with the log off. (The plain difference between the
            # two runs also holds the event loop's batching, which varies with
            # how busy the machine was.)
            share = log_ir / per_rpc["sy-1-nolog"]
            diff = per_rpc.get("sy-1", 0) / per_rpc["sy-1-nolog"] - 1
            w(f"Access log: {int(log_ir):,} instructions per RPC inside `Rpc::logAccess` and "
              f"`AccessLogBuffer::flush`, {share * 100:.1f} % of an RPC with the log off "
              f"(difference between the two runs: {diff * 100:+.1f} %).")
            w("")
            gates.append(("access log CPU per RPC (callgrind)", "sy-1", f"{share * 100:.1f} %",
                          "≤ 5 %", share <= 0.05))

    floor = cell("callgrind-h2floor", "h2floor")
    if floor:
        r = floor.rows[-1]
        n = lambda k: int(float(r.get(k, 0)))
        w("## nghttp2's own floor (callgrind, sy_bench_h2_floor)")
        w("")
        w("One gRPC unary 16 B exchange through four in-memory nghttp2 sessions (client, the proxy's "
          "server and client sessions, backend), no I/O, the daemon's session options and header "
          f"handling; {n('exchanges'):,} exchanges; verified: {r.get('verify')}.")
        w("")
        w("| part | instructions per exchange |")
        w("|---|---|")
        w(f"| proxy's two sessions, total | {n('proxy_ir_per_exchange'):,} |")
        w(f"| of which nghttp2 | {n('proxy_nghttp2_ir'):,} |")
        w(f"| of which libc (memcpy, memcmp) | {n('proxy_libc_ir'):,} |")
        w(f"| of which the bench's own callbacks, header lists, allocator | {n('proxy_other_ir'):,} |")
        w(f"| client session (not the proxy's work) | {n('client_ir_per_exchange'):,} |")
        w(f"| backend session (not the proxy's work) | {n('backend_ir_per_exchange'):,} |")
        w("")

    # Transport and size variants on sy-1: TLS from the client, TLS on both
    # legs, 64 KiB each way (whole daemon, access log on, handshakes included).
    variant_cgs = [(c, what, cell(c, "sy-1")) for c, what in
                   (("callgrind", "unary 16 B, cleartext"),
                    ("callgrind-tls", "unary 16 B, TLS from the client"),
                    ("callgrind-tlsup", "unary 16 B, TLS on both legs"),
                    ("callgrind-64k", "unary 64 KiB each way, cleartext"),
                    ("callgrind-stream", "server stream, 1 KiB messages (per message)"))]
    variant_cgs = [(c, what, cg) for c, what, cg in variant_cgs if cg]
    if any(c != "callgrind" for c, _, _ in variant_cgs):
        w("## Instructions per RPC by transport and size (callgrind, sy-1)")
        w("")
        w("| case | what | verified | RPCs (messages) | instructions per RPC (message) |")
        w("|---|---|---|---|---|")
        for c, what, cg in variant_cgs:
            r = cg.rows[-1]
            w(f"| {c} | {what} | {r.get('verify')} | {int(float(r.get('rpcs', 0))):,} "
              f"| {int(float(r.get('ir_per_rpc', 0))):,} |")
        w("")

    # The edge policy steps on sy-1: each callgrind variant against the plain one.
    policy_cgs = [(c, cell(c, "sy-1")) for c in
                  ("callgrind", "callgrind-ratelimit", "callgrind-jwtrl", "callgrind-jwtrl-nocache",
                   "callgrind-json")]
    policy_cgs = [(c, cg) for c, cg in policy_cgs if cg]
    if len(policy_cgs) > 1 or (policy_cgs and policy_cgs[0][0] != "callgrind"):
        w("## Instructions per RPC with edge policy (callgrind, sy-1)")
        w("")
        w("| case | verified | RPCs | instructions per RPC |")
        w("|---|---|---|---|")
        for c, cg in policy_cgs:
            r = cg.rows[-1]
            w(f"| {c} | {r.get('verify')} | {int(float(r.get('rpcs', 0))):,} | {int(float(r.get('ir_per_rpc', 0))):,} |")
        w("")

    if gates:
        w("## Targets")
        w("")
        w("CPU limit per case: 0.6× the best of nginx/HAProxy/nghttpx, relaxed to 1.1× the L4 floor "
          "where 0.6× the best peer is below that floor.")
        w("")
        w("| target | Switchyard | measured | limit | met |")
        w("|---|---|---|---|---|")
        for name, t, val, lim, passed in gates:
            w(f"| {name} | {t} | {val} | {lim} | {'yes' if passed else '**no**'} |")
        w("")

    bad = [(r["case"], r["target"], r.get("rep"), r.get("verify")) for r in rows if r.get("verify") != "ok"]
    if bad:
        w("## Failed runs")
        w("")
        for c, t, rep, v in bad:
            w(f"- {c} / {t} / repeat {rep}: {v}")
        w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
