#!/usr/bin/env python3
"""Regenerate wattprint's embedded reference tables (data/*.csv).

Usage:
    tools/update-reference-data.py SHARED_DATA_DIR [ZONE_TAB]

SHARED_DATA_DIR is the folder holding the upstream snapshots (greenalgorithms/,
codecarbon/, carbontracker/, experiment_impact_tracker/, mlco2_impact/, compiled/).
ZONE_TAB defaults to /usr/share/zoneinfo/zone.tab (tzdata, public domain).

Python 3 standard library only.  The output is deterministic (rows sorted, fixed
number formatting, "\n" line ends), so rerunning the script on the same inputs
reproduces the committed files byte for byte.  See data/SOURCES.md for what each
table contains and which source wins on conflicts.

The model-name normalisation below MUST stay identical to
wattprint::reference::normalise_model_name() in src/reference/reference_data.cpp;
the unit tests check that every CPU row is unique under the C++ normalisation.
"""

import csv
import io
import os
import re
import sys

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")

# Source tags, in decreasing priority (first wins when two rows describe the same model).
SRC_COMPILED = "wattprint-compiled"
SRC_INTEL = "codecarbon-intel-ark"
SRC_AMD = "codecarbon-amd"
SRC_GA = "green-algorithms-v3.0"
SRC_EIT = "experiment-impact-tracker"
SRC_MLCO2 = "mlco2-impact"
SRC_OWID = "owid-ember-via-carbontracker"


def warn(msg):
    print("update-reference-data: " + msg, file=sys.stderr)


# --------------------------------------------------------------------------------------------
# Name handling (CPU)
# --------------------------------------------------------------------------------------------

_MARKS = re.compile(r"\(r\)|\(tm\)|®|™", re.IGNORECASE)
_DROP_TOKENS = {"cpu", "processor", "apu"}
_CORE_TOKEN = re.compile(r"^([0-9]+|[a-z]+)-cores?$")
_FREQ_TOKEN = re.compile(r"^[0-9]+(\.[0-9]+)?ghz$")
_ORDINAL_TOKEN = re.compile(r"^[0-9]+(st|nd|rd|th)$")


def normalise_model_name(name):
    """Python twin of wattprint::reference::normalise_model_name (keep in sync)."""
    s = _MARKS.sub("", name)
    s = "".join(c.lower() if "A" <= c <= "Z" else c for c in s)
    at = s.find("@")
    if at >= 0:
        s = s[:at]
    w = s.find(" with ")
    if w >= 0:
        s = s[:w]
    s = s.replace(",", " ")
    tokens = s.split()
    out = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if _ORDINAL_TOKEN.match(t) and i + 1 < len(tokens) and tokens[i + 1] == "gen":
            i += 2
            continue
        if t in _DROP_TOKENS or t == "0" or _CORE_TOKEN.match(t) or _FREQ_TOKEN.match(t):
            i += 1
            continue
        out.append(t)
        i += 1
    return " ".join(out)


def clean_display(name):
    """Display name: no (R)/(TM)/®/™, no 'Processor', no ' with ... Graphics', single spaces."""
    s = _MARKS.sub("", name).replace("\u200b", "").replace("\u00a0", " ")
    w = s.find(" with ")
    if w >= 0:
        s = s[:w]
    s = re.sub(r"\bProcessor\b", "", s)
    return " ".join(s.split()).replace(" ,", ",")


def fmt_num(x):
    """Integral values without a decimal point, others in shortest round-trip form."""
    if x == int(x):
        return str(int(x))
    return repr(x)


def parse_float(text):
    try:
        v = float(text.strip())
    except ValueError:
        return None
    if v != v or v <= 0:  # NaN or non-positive
        return None
    return v


def parse_int(text):
    try:
        v = int(text.strip())
    except ValueError:
        return None
    return v if v > 0 else None


def read_rows(path, encoding="utf-8", skip=0):
    with open(path, newline="", encoding=encoding) as f:
        rows = list(csv.reader(f))
    return rows[skip:]


def read_dicts(path, encoding="utf-8", header_row=0):
    with open(path, newline="", encoding=encoding) as f:
        rows = list(csv.reader(f))
    header = [h.strip() for h in rows[header_row]]
    return [dict(zip(header, r)) for r in rows[header_row + 1:]]


def write_csv(name, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for r in rows:
        w.writerow(r)
    path = os.path.join(OUT_DIR, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())
    print("wrote %s (%d rows)" % (os.path.normpath(path), len(rows)))


# --------------------------------------------------------------------------------------------
# CPUs
# --------------------------------------------------------------------------------------------

def ga_cpu_display(model):
    m = model.strip()
    if m == "AMD 7552":  # Green Algorithms row cites the EPYC 7002 datasheet
        return "AMD EPYC 7552"
    if m == "Rasberry Pi 4":  # spelling fixed
        return "Raspberry Pi 4"
    first = m.split()[0]
    if first in ("Xeon", "Core", "Pentium", "Celeron", "Atom"):
        return "Intel " + m
    if first in ("Ryzen", "EPYC", "Athlon", "Opteron") or re.match(r"^(A[0-9]+|FX)-", m):
        return "AMD " + m
    return m


def amd_tdp(text):
    """'280W' -> 280; '155W / 170W' -> 155 (the default); ranges like '35-54W' are rejected."""
    t = text.strip()
    m = re.match(r"^([0-9]+(?:\.[0-9]+)?)\s*W(?:\s*/\s*[0-9]+(?:\.[0-9]+)?\s*W)?$", t)
    return float(m.group(1)) if m else None


def build_cpus(shared):
    candidates = []  # (priority, order, display, tdp, cores, source)

    def add(prio, display, tdp, cores, source):
        candidates.append((prio, len(candidates), display, tdp, cores, source))

    for r in read_dicts(os.path.join(shared, "compiled", "hardware_tdp_reference.csv")):
        if r["kind"] != "cpu":
            continue
        tdp, cores = parse_float(r["power_w"]), parse_int(r["cores"])
        if tdp and cores:
            add(0, clean_display(r["vendor"] + " " + r["model"]), tdp, cores, SRC_COMPILED)

    for r in read_dicts(os.path.join(shared, "codecarbon", "intel_cpu_ark_dataset.csv")):
        tdp, cores = parse_float(r["tdp"]), parse_int(r["total_cores"])
        if tdp and cores:
            add(1, clean_display(r["cpu_name"]), tdp, cores, SRC_INTEL)

    for fname in ("amd_cpu_server_dataset.csv", "amd_cpu_desktop_dataset.csv"):
        path = os.path.join(shared, "codecarbon", fname)
        for r in read_dicts(path, encoding="utf-8-sig"):
            tdp, cores = amd_tdp(r["Default TDP"]), parse_int(r["# of CPU Cores"])
            if not (tdp and cores):
                continue
            display = clean_display(r["Name"])
            if not display.startswith("AMD "):
                display = "AMD " + display
            add(1, display, tdp, cores, SRC_AMD)

    for r in read_dicts(os.path.join(shared, "greenalgorithms", "TDP_cpu.csv"), header_row=1):
        model = r["model"].strip()
        if not model or model == "Any":
            continue
        tdp, cores = parse_float(r["TDP"]), parse_int(r["n_cores"])
        if tdp and cores:
            add(2, ga_cpu_display(model), tdp, cores, SRC_GA)

    chosen = {}
    for prio, order, display, tdp, cores, source in sorted(candidates):
        key = normalise_model_name(display)
        if not key:
            continue
        if key in chosen:
            kept = chosen[key]
            if (kept[1], kept[2]) != (tdp, cores):
                warn("cpu %r: keeping %s %s W/%d cores (%s), dropping %s W/%d cores (%s)" % (
                    display, kept[0], fmt_num(kept[1]), kept[2], kept[3], fmt_num(tdp), cores, source))
            continue
        chosen[key] = (display, tdp, cores, source)
    rows = sorted(chosen.values(), key=lambda v: (normalise_model_name(v[0]), v[0]))
    return [[d, fmt_num(t), str(c), s] for d, t, c, s in rows]


# --------------------------------------------------------------------------------------------
# GPUs
# --------------------------------------------------------------------------------------------

_GPU_OPTIONAL = {"nvidia", "amd", "tesla", "geforce", "google"}


def gpu_key(name):
    """Order-independent identity of a GPU name (mirrors the C++ GPU tokeniser)."""
    s = _MARKS.sub("", name).lower()
    s = re.sub(r"[-_/,()]", " ", s)
    s = re.sub(r"\b([0-9]+)\s+gb\b", r"\1gb", s)
    return " ".join(sorted(t for t in s.split() if t not in _GPU_OPTIONAL))


# Display names for the rows of compiled/hardware_tdp_reference.csv, keyed by (model, variant).
# Extra names are NVML spellings that need an alias to be found (same power figure).
COMPILED_GPU_NAMES = {
    ("Tesla T4", "PCIe low-profile"): ["NVIDIA Tesla T4"],
    ("Quadro RTX 6000", "PCIe (TU102; 24 GB)"): ["NVIDIA Quadro RTX 6000"],
    ("H100", "SXM5 80 GB"): ["NVIDIA H100 SXM5", "NVIDIA H100 80GB HBM3"],
    ("H100", "PCIe 80 GB"): ["NVIDIA H100 PCIe"],
    ("H100", "NVL 94 GB (PCIe)"): ["NVIDIA H100 NVL"],
    ("H200", "SXM 141 GB"): ["NVIDIA H200", "NVIDIA H200 SXM"],
    ("H200", "NVL 141 GB (PCIe)"): ["NVIDIA H200 NVL"],
    ("A100", "SXM4 40/80 GB"): ["NVIDIA A100 SXM4"],
    ("A100", "PCIe 40 GB"): ["NVIDIA A100 PCIe 40GB"],
    ("A100", "PCIe 80 GB"): ["NVIDIA A100 PCIe 80GB"],
    ("V100", "SXM2 16/32 GB"): ["NVIDIA V100 SXM2"],
    ("V100", "PCIe 16/32 GB"): ["NVIDIA V100 PCIe"],
    ("V100S", "PCIe 32 GB"): ["NVIDIA V100S PCIe"],
    ("L4", "PCIe low-profile 24 GB"): ["NVIDIA L4"],
    ("L40S", "PCIe 48 GB"): ["NVIDIA L40S"],
    ("Instinct MI250X", "OAM 128 GB"): ["AMD Instinct MI250X"],
    ("Instinct MI300X", "OAM 192 GB"): ["AMD Instinct MI300X"],
}
# Facts stated in the notes column of the compiled table.
COMPILED_GPU_EXTRA = [("NVIDIA L40", 300.0)]  # L40S row: "NVIDIA L40S datasheet (L40 = 300 W)"

# mlco2 rows with known errors (shared/data/SOURCES.md §3): skipped, the correct figures
# come from the compiled table / Green Algorithms.
MLCO2_SKIP = {"Tesla V100-PCIE-16GB", "Tesla V100-SXM2-16GB", "A100 PCIe 40/80GB", "GTX 750"}
# experiment-impact-tracker rows that are not GPUs or duplicate TPU figures with other values.
EIT_SKIP = {"TPU2", "TPU3", "Intel Xeon E5-2699"}


def gpu_display(name):
    n = clean_display(name.strip())
    if n.startswith(("NVIDIA ", "AMD ", "GIGABYTE ", "Google ")):
        return n
    if n.startswith("TPU"):
        return "Google " + n
    return "NVIDIA " + n


def build_gpus(shared):
    candidates = []

    def add(prio, display, tdp, source):
        candidates.append((prio, len(candidates), display, tdp, source))

    for r in read_dicts(os.path.join(shared, "compiled", "hardware_tdp_reference.csv")):
        if r["kind"] != "gpu":
            continue
        names = COMPILED_GPU_NAMES.get((r["model"], r["variant"]))
        if names is None:
            warn("compiled gpu row %r/%r has no display name; skipped" % (r["model"], r["variant"]))
            continue
        tdp = parse_float(r["power_w"])
        for n in names:
            add(0, n, tdp, SRC_COMPILED)
    for n, tdp in COMPILED_GPU_EXTRA:
        add(0, n, tdp, SRC_COMPILED)

    for r in read_dicts(os.path.join(shared, "greenalgorithms", "TDP_gpu.csv"), header_row=1):
        model = r["model"].strip()
        tdp = parse_float(r["TDP"])
        if model and model != "Any" and tdp:
            add(1, gpu_display(model), tdp, SRC_GA)

    for r in read_dicts(os.path.join(shared, "experiment_impact_tracker", "gpu_tdp.csv")):
        name, tdp = r["name"].strip(), parse_float(r["tdp"])
        if name and name not in EIT_SKIP and tdp:
            add(2, gpu_display(name), tdp, SRC_EIT)

    for r in read_dicts(os.path.join(shared, "mlco2_impact", "gpus.csv")):
        name, tdp = r["name"].strip(), parse_float(r["tdp_watts"])
        if r["type"].strip() != "gpu" or name in MLCO2_SKIP or not tdp:
            continue
        add(3, gpu_display(name), tdp, SRC_MLCO2)

    chosen = {}
    for prio, order, display, tdp, source in sorted(candidates):
        key = gpu_key(display)
        if key in chosen:
            kept = chosen[key]
            if kept[1] != tdp:
                warn("gpu %r: keeping %s W (%s), dropping %s W (%s)" % (
                    display, fmt_num(kept[1]), kept[2], fmt_num(tdp), source))
            continue
        chosen[key] = (display, tdp, source)
    rows = sorted(chosen.values(), key=lambda v: (v[0].lower(), v[0]))
    return [[d, fmt_num(t), s] for d, t, s in rows]


# --------------------------------------------------------------------------------------------
# Carbon intensity
# --------------------------------------------------------------------------------------------

# Green Algorithms region codes that differ from ISO 3166-2.
GA_REGION_FIX = {"CA-MT": "CA-MB"}  # Manitoba
# Spelling fixes in Green Algorithms region names.
GA_NAME_FIX = {"Mississip": "Mississippi"}


def build_grid(shared):
    rows = {}
    for r in read_dicts(os.path.join(shared, "carbontracker", "carbon-intensities.csv")):
        code = r["alpha-2"].strip().upper()
        value = r["Carbon intensity of electricity (gCO2/kWh)"].strip()
        year = parse_int(r["Year"])
        if not re.match(r"^[A-Z]{2}$", code) or parse_float(value) is None or year is None:
            warn("carbontracker row %r skipped" % (r,))
            continue
        if code in rows:
            warn("carbontracker duplicate %s skipped" % code)
            continue
        rows[code] = [code, r["Entity"].strip(), fmt_num(float(value)), str(year), SRC_OWID]

    ga = read_dicts(os.path.join(shared, "greenalgorithms", "CI_aggregated.csv"), header_row=1)
    for r in ga:
        code = r["location"].strip().upper()
        kind = r["Type"].strip()
        value = parse_float(r["carbonIntensity"])
        if kind == "World" and code == "WORLD":
            rows["WORLD"] = ["WORLD", "World", fmt_num(value), "2019", SRC_GA]
            continue
        if kind != "Region" or not re.match(r"^[A-Z]{2}-[A-Z0-9]{1,4}$", code) or value is None:
            continue
        m = re.search(r"data from ([0-9]{4})", r["source"] + " " + r["comments"])
        if not m:
            warn("GA region %s has no year; skipped" % code)
            continue
        code = GA_REGION_FIX.get(code, code)
        region = r["regionName"].strip()
        name = "%s, %s" % (GA_NAME_FIX.get(region, region), r["countryName"].strip())
        rows[code] = [code, name, fmt_num(value), m.group(1), SRC_GA]
    if "WORLD" not in rows:
        raise SystemExit("CI_aggregated.csv has no WORLD row")
    return [rows[k] for k in sorted(rows)]


NAMED = [
    ["ADEME-2018-FR", "FR", "57.1", "2018", "ademe-base-carbone",
     "ADEME Base Carbone, Électricité – 2018 – mix moyen – consommation (lifecycle, consumption "
     "incl. imports); entry name confirmed, value not re-verified"],
    ["IEA-2019-WORLD", "WORLD", "475", "2019", "iea-2019-via-green-algorithms",
     "IEA Global Energy & CO2 Status Report 2019 world average, as used by Green Algorithms and "
     "CodeCarbon"],
    ["RTE-2023-FR", "FR", "32", "2023", "rte-bilan-electrique-2023",
     "RTE Bilan électrique 2023, direct emissions of French production (16.1 MtCO2eq)"],
    ["RTE-2024-FR", "FR", "21.7", "2024", "rte-bilan-electrique-2024",
     "RTE Bilan électrique 2024, direct emissions of French production (11.7 MtCO2eq)"],
]


# --------------------------------------------------------------------------------------------
# Time zones
# --------------------------------------------------------------------------------------------

# Common tzdata 'backward' link names (as found in /etc/localtime or $TZ) -> country.
# zone.tab only lists canonical zones; these aliases are mapped by hand.
TZ_ALIASES = {
    "America/Atka": "US", "America/Buenos_Aires": "AR", "America/Ensenada": "MX",
    "America/Fort_Wayne": "US", "America/Godthab": "GL", "America/Indianapolis": "US",
    "America/Knox_IN": "US", "America/Louisville": "US", "America/Montreal": "CA",
    "America/Porto_Acre": "BR", "America/Santa_Isabel": "MX", "America/Shiprock": "US",
    "Asia/Calcutta": "IN", "Asia/Chongqing": "CN", "Asia/Chungking": "CN", "Asia/Dacca": "BD",
    "Asia/Harbin": "CN", "Asia/Istanbul": "TR", "Asia/Katmandu": "NP", "Asia/Macao": "MO",
    "Asia/Rangoon": "MM", "Asia/Saigon": "VN", "Asia/Tel_Aviv": "IL", "Asia/Thimbu": "BT",
    "Asia/Ujung_Pandang": "ID", "Asia/Ulan_Bator": "MN", "Atlantic/Faeroe": "FO",
    "Australia/ACT": "AU", "Australia/Canberra": "AU", "Australia/LHI": "AU", "Australia/NSW": "AU",
    "Australia/North": "AU", "Australia/Queensland": "AU", "Australia/South": "AU",
    "Australia/Tasmania": "AU", "Australia/Victoria": "AU", "Australia/West": "AU",
    "Australia/Yancowinna": "AU", "Brazil/Acre": "BR", "Brazil/DeNoronha": "BR", "Brazil/East": "BR",
    "Brazil/West": "BR", "Canada/Atlantic": "CA", "Canada/Central": "CA", "Canada/Eastern": "CA",
    "Canada/Mountain": "CA", "Canada/Newfoundland": "CA", "Canada/Pacific": "CA",
    "Canada/Saskatchewan": "CA", "Canada/Yukon": "CA", "Chile/Continental": "CL",
    "Chile/EasterIsland": "CL", "Cuba": "CU", "Egypt": "EG", "Eire": "IE", "Europe/Belfast": "GB",
    "Europe/Kiev": "UA", "Europe/Nicosia": "CY", "Europe/Tiraspol": "MD", "Europe/Uzhgorod": "UA",
    "Europe/Zaporozhye": "UA", "GB": "GB", "GB-Eire": "GB", "Hongkong": "HK", "Iceland": "IS",
    "Iran": "IR", "Israel": "IL", "Jamaica": "JM", "Japan": "JP", "Kwajalein": "MH", "Libya": "LY",
    "Mexico/BajaNorte": "MX", "Mexico/BajaSur": "MX", "Mexico/General": "MX", "NZ": "NZ",
    "NZ-CHAT": "NZ", "Navajo": "US", "PRC": "CN", "Pacific/Enderbury": "KI", "Pacific/Johnston": "UM",
    "Pacific/Ponape": "FM", "Pacific/Samoa": "AS", "Pacific/Truk": "FM", "Pacific/Yap": "FM",
    "Poland": "PL", "Portugal": "PT", "ROC": "TW", "ROK": "KR", "Singapore": "SG", "Turkey": "TR",
    "US/Alaska": "US", "US/Aleutian": "US", "US/Arizona": "US", "US/Central": "US",
    "US/East-Indiana": "US", "US/Eastern": "US", "US/Hawaii": "US", "US/Indiana-Starke": "US",
    "US/Michigan": "US", "US/Mountain": "US", "US/Pacific": "US", "US/Samoa": "AS",
    "W-SU": "RU",
}


def build_tz(zone_tab):
    rows = {}
    with open(zone_tab, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 3 and re.match(r"^[A-Z]{2}$", fields[0]):
                rows[fields[2]] = fields[0]
    for tz, cc in TZ_ALIASES.items():
        rows.setdefault(tz, cc)  # zone.tab wins if the alias became canonical
    return [[tz, rows[tz]] for tz in sorted(rows)]


def main(argv):
    if len(argv) < 2 or len(argv) > 3:
        print(__doc__, file=sys.stderr)
        return 2
    shared = argv[1]
    zone_tab = argv[2] if len(argv) == 3 else "/usr/share/zoneinfo/zone.tab"
    os.makedirs(OUT_DIR, exist_ok=True)
    if not os.path.isdir(os.path.join(shared, "greenalgorithms")):
        raise SystemExit("%s does not look like the shared data folder" % shared)
    write_csv("cpu_tdp.csv", ["model", "tdp_w", "cores", "source"], build_cpus(shared))
    write_csv("gpu_tdp.csv", ["model", "tdp_w", "source"], build_gpus(shared))
    write_csv("carbon_intensity.csv", ["code", "name", "g_per_kwh", "year", "source"], build_grid(shared))
    write_csv("named_carbon_intensity.csv", ["name", "code", "g_per_kwh", "year", "source", "description"],
              sorted(NAMED))
    write_csv("tz_country.csv", ["timezone", "country"], build_tz(zone_tab))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
