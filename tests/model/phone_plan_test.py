"""kassa's phone rules against libphonenumber itself (Debian's
python3-phonenumbers), for every region it knows (issue 18, acceptance 4).

Cases, made here from the library's metadata at test time:
  - every example number of every type of every region (and of every
    non-geographic code, +800 ...), in international format, dialled in a
    Latvian store: stored as libphonenumber's E.164;
  - the same numbers in the region's national format, dialled in a store of
    that region: the same E.164;
  - numbers libphonenumber calls impossible (an example with digits added or
    taken away, unknown country codes): all refused.
Environment: KASSA_PHONE_CHECK (tests/model/phone_check.cc), KASSA_EMULATOR.
"""
import os
import subprocess
import unittest

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

TYPES = [PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.TOLL_FREE,
         PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.VOIP,
         PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.PAGER, PhoneNumberType.UAN,
         PhoneNumberType.VOICEMAIL]


def check(cases):
    """kassa's answer to each (country, input): ('ok', e164) or ('refused', message)."""
    command = os.environ["KASSA_EMULATOR"].split() + [os.environ["KASSA_PHONE_CHECK"]]
    text = "".join(f"{country}\t{number}\n" for country, number in cases)
    out = subprocess.run(command, input=text, capture_output=True, text=True, check=True, timeout=240).stdout
    lines = out.splitlines()
    header = lines[0].split("\t")
    return header, [tuple(line.split("\t", 1)) for line in lines[1:]]


def examples():
    """(region, type, PhoneNumber) of every example number libphonenumber has."""
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for t in TYPES:
            ex = phonenumbers.example_number_for_type(region, t)
            if ex is not None:
                yield region, t, ex
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        ex = phonenumbers.example_number_for_non_geo_entity(code)
        if ex is not None:
            yield "001", None, ex


def impossible(e164):
    try:
        return not phonenumbers.is_possible_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return True


class PhonePlanTest(unittest.TestCase):
    def test_every_region_against_libphonenumber(self):
        cases, expected, kinds = [], [], []
        seen = set()
        for region, _, ex in examples():
            e164 = phonenumbers.format_number(ex, PhoneNumberFormat.E164)
            if e164 in seen:
                continue
            seen.add(e164)
            cases.append(("LV", phonenumbers.format_number(ex, PhoneNumberFormat.INTERNATIONAL)))
            expected.append(e164)
            kinds.append("international")
            if region != "001":
                cases.append((region, phonenumbers.format_number(ex, PhoneNumberFormat.NATIONAL)))
                expected.append(e164)
                kinds.append("national")
        # Impossible: each example with one to three digits more or fewer, where libphonenumber says so.
        impossibles = set()
        for e164 in sorted(seen):
            for variant in [e164 + "1", e164 + "12", e164 + "123", e164[:-1], e164[:-2], e164[:-3]]:
                if len(variant) > 2 and impossible(variant):
                    impossibles.add(variant)
        for code in ["+0", "+28", "+299999", "+80", "+999", "+878", "+969", "+5"]:
            for tail in ["1234567", "12345678901"]:
                if impossible(code + tail):
                    impossibles.add(code + tail)
        for number in sorted(impossibles):
            cases.append(("LV", number))
            expected.append(None)
            kinds.append("impossible")

        header, answers = check(cases)
        self.assertEqual(len(answers), len(cases))
        self.assertEqual(header[1], phonenumbers.__version__, "the plans compiled in are of this libphonenumber")
        self.assertEqual(header[2] if len(header) > 2 else "", "", "patterns glibc cannot compile")
        wrong = {"international": [], "national": [], "impossible": []}
        for (country, number), want, kind, answer in zip(cases, expected, kinds, answers):
            if kind == "impossible":
                if answer[0] != "refused":
                    wrong[kind].append(f"{number} accepted as {answer[1]}")
            elif answer != ("ok", want):
                wrong[kind].append(f"{country} {number!r}: {answer} (libphonenumber {want})")
        counts = {k: kinds.count(k) for k in wrong}
        print(f"\n[phone] libphonenumber {phonenumbers.__version__}, {len(phonenumbers.SUPPORTED_REGIONS)} regions and "
              f"{len(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS)} non-geographic codes: "
              + ", ".join(f"{kind} {counts[kind] - len(w)}/{counts[kind]} right" for kind, w in wrong.items()))
        for kind, w in wrong.items():
            for line in w[:15]:
                print(f"  {kind}: {line}")
        self.assertEqual(wrong, {"international": [], "national": [], "impossible": []})

    def test_what_a_person_dials(self):
        cases = [
            ("LV", "2911 2233", "+37129112233"),         # national, no prefix
            ("LV", "+371 2911 2233", "+37129112233"),
            ("LV", "00371 29112233", "+37129112233"),
            ("LV", "371 2911 2233", "+37129112233"),     # the country code without + or 00
            ("IT", "06 1234 5678", "+390612345678"),     # the Italian leading zero stays
            ("IT", "+39 06 1234 5678", "+390612345678"),
            ("GB", "(020) 7946 0958", "+442079460958"),  # the national prefix 0 goes
            ("GB", "+44 (0)20 7946 0958", "+442079460958"),
            ("US", "1 (415) 555-2671", "+14155552671"),  # NANP: prefix 1, area code
            ("US", "011 371 2911 2233", "+37129112233"), # NANP's international prefix
            ("CA", "(416) 555-0199", "+14165550199"),
            ("LV", "+800 1234 5678", "+80012345678"),    # international toll-free
            ("FI", "040 123 4567", "+358401234567"),
            ("CN", "138 0013 8000", "+8613800138000"),
        ]
        header, answers = check([(c, n) for c, n, _ in cases])
        for (country, number, want), answer in zip(cases, answers):
            self.assertEqual(answer, ("ok", want), f"{country} {number}")
        refused = [("US", "555-2671"), ("LV", "+371 1234 5678"), ("LV", "2911 223"), ("LV", "+999 1234 5678"),
                   ("LV", "12ab"), ("XX", "0207946")]
        _, answers = check(refused)
        for (country, number), answer in zip(refused, answers):
            self.assertEqual(answer[0], "refused", f"{country} {number}: {answer}")
        # The messages (Status keeps the field, "phone", apart).
        self.assertEqual(answers[0][1], "give the area code too (a number in the store's country)")
        self.assertEqual(answers[1][1], "not a number its country's numbering plan has")
        self.assertEqual(answers[3][1], "unknown country code")


if __name__ == "__main__":
    unittest.main()
