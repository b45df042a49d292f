#!/usr/bin/env python3
"""Judges a schemathesis JUnit report for scripts/fuzz.sh: exit 1 on any failure (a finding), on any error of
the run itself, or when nothing was tested; 0 otherwise. One error is only a warning: Hypothesis crashing inside
CPython 3.11's ast module ("AST constructor recursion depth mismatch") while it describes a strategy, a tool
error that cuts that operation's phase short and says nothing about Trail.

Usage: scripts/fuzz/judge.py report.xml
"""
import sys
import xml.etree.ElementTree as ET

TOOL_CRASH = "AST constructor recursion depth mismatch"


def judge(path):
    root = ET.parse(path).getroot()
    bad = 0
    tests = 0
    for case in root.iter("testcase"):
        tests += 1
        for failure in case.iter("failure"):
            print(f"FAILED {case.get('name')}: {(failure.get('message') or '') + (failure.text or '')}"[:3000])
            bad += 1
        for error in case.iter("error"):
            text = (error.get("message") or "") + (error.text or "")
            if TOOL_CRASH in text:
                print(f"warning: {case.get('name')}: Hypothesis crashed in CPython's ast module (a tool error, not a finding)")
            else:
                print(f"ERROR {case.get('name')}: {text}"[:3000])
                bad += 1
    if tests == 0:
        print("no operation was tested")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(judge(sys.argv[1]))
