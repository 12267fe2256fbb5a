"""Fail CI unless tests ran (and passed) against PostgreSQL."""

from __future__ import annotations

import sys

from defusedxml import ElementTree


def main(path: str) -> int:
    ran = 0
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        name = case.get("name", "")
        skipped = case.find("skipped") is not None
        if "postgresql" in name and not skipped:
            ran += 1
    if ran == 0:
        print("CI: no test ran against PostgreSQL; is it reachable at VERITRAIL_TEST_DATABASE_URL?")
        return 1
    print(f"CI: {ran} tests ran against PostgreSQL")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
