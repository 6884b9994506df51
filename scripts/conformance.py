#!/usr/bin/python3
"""Conformance map: every normative statement of MQTT 5.0 and 3.1.1 and the
test that covers it, or the reason none does.

Inputs (all in the repository):
  docs/conformance/mqtt-v5-statements.tsv    id, section, statement (MQTT 5.0)
  docs/conformance/mqtt-v311-statements.tsv  id, section, statement (MQTT 3.1.1)
  docs/conformance/not-covered.tsv           id, reason (hand-maintained)
  tests/unit/**/*.cpp, tests/integration/*.py

How a test cites a statement:
  [MQTT-3.1.2-1]          an MQTT 5.0 statement (also without brackets)
  [v3.1.1 MQTT-3.2.2-2]   an MQTT 3.1.1 statement (the ids of the two
                          specifications overlap with different meanings)
  [v5 MQTT-3.2.2-2]       an explicit MQTT 5.0 statement
The citation belongs to a test when it is inside the test's body or in the
comment block directly above it (C++ TEST/TEST_F/TEST_P, Python `def test_*`).
In a C++ table of cases (a row starting with {"name", ...), a citation on the
row or in the comment lines directly above it belongs to that row of the next
TEST_P in the file.  A citation anywhere else is an error: ids are claims of
coverage, so they sit on the tests that check them.

Output: docs/conformance.md.  `--check` regenerates in memory and fails when
the file differs, when a cited id is not a statement id, when a statement has
neither a test nor a reason, when a statement has both, or when not-covered.tsv
names an unknown id.

Stdlib only; run with /usr/bin/python3.
"""

import argparse
import collections
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
V5, V311 = "5.0", "3.1.1"
STATEMENT_FILES = {
    V5: "docs/conformance/mqtt-v5-statements.tsv",
    V311: "docs/conformance/mqtt-v311-statements.tsv",
}
NOT_COVERED = "docs/conformance/not-covered.tsv"
OUTPUT = "docs/conformance.md"

# An id, optionally qualified by the specification version.
ID_RE = re.compile(r"(?:\b(v5|v3\.1\.1)[ :])?\bMQTT-(\d+\.\d+(?:\.\d+)?-\d+)\b")

CPP_TEST_RE = re.compile(r"^\s*TEST(?:_F|_P)?\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)")
CPP_ROW_RE = re.compile(r'^\s*\{\s*"(\w+)"\s*,')
PY_CLASS_RE = re.compile(r"^(\s*)class\s+(\w+)")
PY_DEF_RE = re.compile(r"^(\s*)def\s+(test\w*)\s*\(")


class Problems:
    def __init__(self):
        self.items = []

    def add(self, msg):
        self.items.append(msg)


def key_of(version_tag, number):
    version = V311 if version_tag == "v3.1.1" else V5
    return version, "MQTT-" + number


def cited_ids(line):
    return [key_of(m.group(1), m.group(2)) for m in ID_RE.finditer(line)]


def display_key(key):
    version, ident = key
    return ident if version == V5 else "v3.1.1 " + ident


# ---------------------------------------------------------------- inputs

def read_tsv(path, columns, problems):
    rows = []
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header != columns:
            problems.add("%s: header must be %s" % (path, "\t".join(columns)))
        for n, line in enumerate(f, start=2):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cells = line.split("\t")
            if len(cells) != len(columns):
                problems.add("%s:%d: expected %d tab-separated columns" % (path, n, len(columns)))
                continue
            rows.append((n, cells))
    return rows


def read_statements(problems):
    statements = collections.OrderedDict()
    for version, path in STATEMENT_FILES.items():
        for n, (ident, section, text) in read_tsv(path, ["id", "section", "statement"], problems):
            if not re.fullmatch(r"MQTT-\d+\.\d+(?:\.\d+)?-\d+", ident):
                problems.add("%s:%d: bad id %r" % (path, n, ident))
            if (version, ident) in statements:
                problems.add("%s:%d: duplicate id %s" % (path, n, ident))
            statements[(version, ident)] = (section, text)
    return statements


def read_not_covered(problems):
    reasons = {}
    for n, (ident, reason) in read_tsv(NOT_COVERED, ["id", "reason"], problems):
        found = cited_ids(ident)
        if len(found) != 1 or ID_RE.sub("", ident).strip():
            problems.add("%s:%d: bad id %r" % (NOT_COVERED, n, ident))
            continue
        if not reason.strip():
            problems.add("%s:%d: empty reason" % (NOT_COVERED, n))
        if found[0] in reasons:
            problems.add("%s:%d: %s listed twice" % (NOT_COVERED, n, ident))
        reasons[found[0]] = reason.strip()
    return reasons


# ---------------------------------------------------------------- scanning

def strip_cpp_code(line):
    """The line without string/char literals and // comments (for braces)."""
    line = re.sub(r'"(?:\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(?:\\.|[^'\\])*'", "''", line)
    return line.split("//", 1)[0]


def scan_cpp(path, lines, problems):
    """Yields (key, test name, line number) for every citation."""
    n = len(lines)
    owner = [None] * n        # test owning each line (body or attached comment)
    tests = []                # (start line index, name)
    for i, line in enumerate(lines):
        m = CPP_TEST_RE.match(line)
        if not m:
            continue
        name = "%s.%s" % (m.group(1), m.group(2))
        tests.append((i, name))
        # Body: from the TEST line until the braces balance.
        depth, opened, j = 0, False, i
        while j < n:
            code = strip_cpp_code(lines[j])
            depth += code.count("{") - code.count("}")
            opened = opened or "{" in code
            owner[j] = name
            if opened and depth <= 0:
                break
            j += 1
        # Comment block directly above.
        k = i - 1
        while k >= 0 and lines[k].lstrip().startswith("//"):
            owner[k] = name
            k -= 1

    def next_test_after(i):
        for start, name in tests:
            if start > i:
                return name
        return None

    for i, line in enumerate(lines):
        keys = cited_ids(line)
        if not keys:
            continue
        name = owner[i]
        if name is None:
            # A row of a table of cases, or comment lines directly above one.
            row = None
            j = i
            if lines[i].lstrip().startswith("//"):
                while j < n and lines[j].lstrip().startswith("//"):
                    j += 1
            if j < n:
                m = CPP_ROW_RE.match(lines[j])
                if m:
                    row = m.group(1)
            test = next_test_after(i)
            if row and test:
                name = "%s/%s" % (test, row)
        if name is None:
            problems.add("%s:%d: %s is cited outside a test"
                         % (path, i + 1, ", ".join(display_key(k) for k in keys)))
            continue
        for key in keys:
            yield key, name, i + 1


def scan_python(path, lines, problems):
    n = len(lines)
    owner = [None] * n
    classes = []  # (indent, name) stack
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        while classes and indent <= classes[-1][0] and not line.lstrip().startswith("#"):
            classes.pop()
        m = PY_CLASS_RE.match(line)
        if m:
            classes.append((len(m.group(1)), m.group(2)))
            continue
        m = PY_DEF_RE.match(line)
        if not m:
            continue
        def_indent = len(m.group(1))
        cls = [c for c in classes if c[0] < def_indent]
        name = ("%s.%s" % (cls[-1][1], m.group(2))) if cls else m.group(2)
        owner[i] = name
        j = i + 1
        while j < n:
            s = lines[j]
            if s.strip():
                ind = len(s) - len(s.lstrip())
                if ind <= def_indent and not s.lstrip().startswith("#"):
                    break
            owner[j] = name
            j += 1
        # Trailing blank / comment lines at the body's end belong to the next
        # definition, not this one: give them back.
        k = j - 1
        while k > i and (not lines[k].strip() or
                         (lines[k].lstrip().startswith("#") and
                          len(lines[k]) - len(lines[k].lstrip()) <= def_indent)):
            owner[k] = None
            k -= 1
        # Comment block (and decorators) directly above.
        k = i - 1
        while k >= 0 and (lines[k].lstrip().startswith("#") or lines[k].lstrip().startswith("@")):
            owner[k] = name
            k -= 1
    for i, line in enumerate(lines):
        keys = cited_ids(line)
        if not keys:
            continue
        if owner[i] is None:
            problems.add("%s:%d: %s is cited outside a test"
                         % (path, i + 1, ", ".join(display_key(k) for k in keys)))
            continue
        for key in keys:
            yield key, owner[i], i + 1


def test_files():
    files = []
    for base, _dirs, names in os.walk(os.path.join(ROOT, "tests", "unit")):
        for name in names:
            if name.endswith(".cpp"):
                files.append(os.path.join(base, name))
    integ = os.path.join(ROOT, "tests", "integration")
    if os.path.isdir(integ):
        for name in os.listdir(integ):
            if name.endswith(".py"):
                files.append(os.path.join(integ, name))
    return sorted(os.path.relpath(f, ROOT) for f in files)


def scan_tests(problems):
    coverage = collections.defaultdict(list)   # key -> ["file:test", ...]
    citations = []                              # (key, where)
    for rel in test_files():
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            lines = f.read().split("\n")
        scan = scan_cpp if rel.endswith(".cpp") else scan_python
        for key, name, lineno in scan(rel, lines, problems):
            citations.append((key, "%s:%d" % (rel, lineno)))
            where = "%s:%s" % (rel, name)
            if where not in coverage[key]:
                coverage[key].append(where)
    return coverage, citations


# ---------------------------------------------------------------- output

def md_cell(text):
    return text.replace("|", "\\|")


def render(statements, coverage, reasons):
    out = []
    w = out.append
    w("# MQTT conformance map")
    w("")
    w("<!-- Generated by scripts/conformance.py from docs/conformance/*.tsv and the")
    w("     statement ids cited in tests/. Do not edit: edit those and rerun")
    w("     `/usr/bin/python3 scripts/conformance.py`. -->")
    w("")
    w("Every normative statement (`[MQTT-x.y.z-n]`) of MQTT 5.0 and MQTT 3.1.1 and")
    w("the test that checks it, or why no test does. Statements are paraphrased;")
    w("the OASIS specifications are the authority.")
    w("")
    w("A test cites a statement in a comment in its body or directly above it:")
    w("`[MQTT-3.1.2-4]` for MQTT 5.0, `[v3.1.1 MQTT-3.2.2-2]` for MQTT 3.1.1 (the")
    w("two specifications reuse ids with different meanings). Statements no test")
    w("covers are listed with a reason in `docs/conformance/not-covered.tsv`.")
    w("`ctest -R conformance_map` fails when this file is stale, when a test cites")
    w("an unknown id, or when a statement has neither a test nor a reason.")
    w("")
    w("| Version | Statements | Covered by tests | Not covered |")
    w("| --- | ---: | ---: | ---: |")
    for version in (V5, V311):
        keys = [k for k in statements if k[0] == version]
        covered = sum(1 for k in keys if coverage.get(k))
        w("| MQTT %s | %d | %d | %d |" % (version, len(keys), covered, len(keys) - covered))
    w("")
    w("Why statements are not covered:")
    w("")
    w("| Version | Reason | Statements |")
    w("| --- | --- | ---: |")
    for version in (V5, V311):
        counts = collections.Counter()
        for k in statements:
            if k[0] == version and not coverage.get(k) and k in reasons:
                counts[reasons[k].split(":", 1)[0].strip()] += 1
        for reason, count in sorted(counts.items(), key=lambda rc: (-rc[1], rc[0])):
            w("| MQTT %s | %s | %d |" % (version, md_cell(reason), count))
    for version in (V5, V311):
        w("")
        w("## MQTT %s" % version)
        w("")
        w("| Id | Section | Statement | Covered by |")
        w("| --- | --- | --- | --- |")
        for key, (section, text) in statements.items():
            if key[0] != version:
                continue
            tests = coverage.get(key)
            if tests:
                cell = "<br>".join("`%s`" % t for t in tests)
            elif key in reasons:
                cell = "*not covered:* " + md_cell(reasons[key])
            else:
                cell = "**MISSING: no test and no reason**"
            w("| %s | %s | %s | %s |" % (key[1], md_cell(section), md_cell(text), cell))
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="fail if docs/conformance.md is stale or the map is incomplete")
    parser.add_argument("--list-uncovered", action="store_true",
                        help="print the statements with neither a test nor a reason")
    args = parser.parse_args()

    problems = Problems()
    statements = read_statements(problems)
    reasons = read_not_covered(problems)
    coverage, citations = scan_tests(problems)

    for key, where in citations:
        if key not in statements:
            problems.add("%s: %s is not a statement id of MQTT %s"
                         % (where, display_key(key), key[0]))
    for key in reasons:
        if key not in statements:
            problems.add("%s: %s is not a statement id of MQTT %s"
                         % (NOT_COVERED, display_key(key), key[0]))
        elif coverage.get(key):
            problems.add("%s: %s is covered by %s; remove its reason"
                         % (NOT_COVERED, display_key(key), coverage[key][0]))
    missing = [k for k in statements if not coverage.get(k) and k not in reasons]
    for key in missing:
        problems.add("%s (MQTT %s) has neither a test nor a reason in %s"
                     % (display_key(key), key[0], NOT_COVERED))
    if args.list_uncovered:
        for key in missing:
            print("%s\t%s" % (display_key(key), statements[key][1]))
        return 0

    text = render(statements, coverage, reasons)
    path = os.path.join(ROOT, OUTPUT)
    if args.check:
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            problems.add("%s is stale: run /usr/bin/python3 scripts/conformance.py" % OUTPUT)
        for p in problems.items:
            print("conformance: " + p, file=sys.stderr)
        if problems.items:
            print("conformance: %d problem(s)" % len(problems.items), file=sys.stderr)
            return 1
        print("conformance: %s is up to date; every statement has a test or a reason" % OUTPUT)
        return 0

    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    for p in problems.items:
        print("conformance: " + p, file=sys.stderr)
    print("conformance: wrote %s (%d problem(s))" % (OUTPUT, len(problems.items)))
    return 1 if problems.items else 0


if __name__ == "__main__":
    sys.exit(main())
