"""Web app: server-side latency of code search and page loads on the full store, and the
responsiveness of the app while a cohort runs in the background.

Server-side time is the app's own ``Server-Timing`` header (middleware to response, so it
includes security checks, the library call and template rendering). Run:
``.venv/bin/python benchmarks/bench_web.py [--from DIR] [--patients 100000]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from sndskit.config import default_reference_dir, store_path
from sndskit.refdata.importer import import_reference_data
from sndskit.web import WebSettings, create_app

# What a person types, letter by letter for a few, then whole words, codes and patterns.
TYPED = [
    "a",
    "av",
    "avc",
    "i",
    "in",
    "inf",
    "infa",
    "infarc",
    "infarctus",
    "m",
    "me",
    "met",
    "metf",
    "metformine",
    "d",
    "di",
    "diab",
    "diabete",
    "diabete type 2",
]
QUERIES = [
    *TYPED,
    "insuffisance cardiaque", "cancer du sein", "bpco", "idm", "hta", "statine", "insuline",
    "embolie pulmonaire", "fracture col femur", "dialyse", "hemoglobine glyquee", "E11*",
    "E10-E14", "I63", "A10B%", "3400930000000", "doliprane", "paracetamol", "chimiotherapie",
    "pose de stent", "scanner thorax", "infarctus du myocarde", "avc ischemique", "asthme",
]  # fmt: skip
PAGES = [
    "/", "/catalog", "/catalog?product=DCIR", "/catalog/tables/ER_PRS_F",
    "/catalog/tables/T_MCO19B", "/catalog/search?q=code+cip+13",
    "/catalog/search?q=diagnostic+principal", "/catalog/join?left=ER_PHA_F&right=IR_BEN_R",
    "/catalog/join?left=T_MCO19D&right=T_MCO19B", "/catalog/nomenclatures/IR_ALD_V",
    "/codes", "/codes/concept?vocab=CIM10&code=I63", "/codes/concept?vocab=ATC&code=A10BA02",
    "/codes/concept/relations?vocab=ATC&code=A10BA02",
    "/codes/concept/descendants?vocab=CIM10&code=I63",
    "/codes/concept/relations?vocab=CIM10&code=I63",
    "/codes/concept/ancestors?vocab=ATC&code=A10BA02",
    "/codelists", "/codelists/new?base=stroke", "/cohorts", "/omop",
]  # fmt: skip

FORM = {
    "name": "t2d_bench", "period_start": "2020-01-01", "period_end": "2022-12-31",
    "entry-0-source": "drug_dispensing", "entry-0-codelist": "t2d_drugs", "at_least": "3",
    "within_days": "365", "distinct_dates": "on", "index": "first", "age_min": "18",
    "exit_at": "end_of_study", "quality_filters": "cnam", "flux_lag_months": "6",
    "finess_duplicates": "finess_46", "dialect": "duckdb",
}  # fmt: skip


def server_ms(response, allowed=(200,)) -> float:
    """The server-side time; 400 is allowed for typed prefixes ("a" is only a stop-word)."""
    assert response.status_code in allowed, (response.url, response.status_code)
    return float(response.headers["server-timing"].split("dur=")[1])


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"p50 {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms"


def latency(client: TestClient, rounds: int) -> None:
    client.get("/codes", params={"q": "avc"})  # warm: the search index is loaded once
    for url in PAGES:
        client.get(url)
    search = [
        server_ms(client.get("/codes", params={"q": q}, headers={"HX-Request": "true"}), (200, 400))
        for _ in range(rounds)
        for q in QUERIES
    ]
    pages = [server_ms(client.get(url)) for _ in range(rounds) for url in PAGES]
    print(f"code search (htmx, {len(search)} requests): {summary(search)}")
    print(f"page loads ({len(pages)} requests): {summary(pages)}")
    slow = sorted(((server_ms(client.get(u)), u) for u in PAGES), reverse=True)[:3]
    print("slowest pages: " + ", ".join(f"{u} {ms:.0f} ms" for ms, u in slow))
    headers = {"X-CSRF-Token": client.cookies["sndskit_csrf"], "HX-Request": "true"}
    previews = [
        server_ms(client.post("/cohorts/preview", data=FORM, headers=headers))
        for _ in range(rounds)
    ]
    print(f"cohort preview (YAML + method + SQL, t2d_drugs resolved): {summary(previews)}")


def during_run(client: TestClient, data_name: str) -> None:
    """Poll the run page and search codes while a cohort runs; time each answer."""
    client.get("/")
    form = {**FORM, "data": data_name}
    headers = {"X-CSRF-Token": client.cookies["sndskit_csrf"], "HX-Request": "true"}
    started = time.perf_counter()
    job_url = client.post("/cohorts/run", data=form, headers=headers).headers["HX-Redirect"]
    status, search = [], []
    while True:
        page = client.get(job_url + "/status")
        status.append(server_ms(page))
        search.append(server_ms(client.get("/codes", params={"q": "infarctus"})))
        if "hx-trigger" not in page.text:
            break
        time.sleep(0.2)
    print(f"cohort run: {time.perf_counter() - started:.1f} s; while it ran:")
    print(f"  run page polls ({len(status)}): {summary(status)}")
    print(f"  code searches ({len(search)}): {summary(search)}")
    assert "flowchart" in page.text, page.text[-500:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--from", dest="source", type=Path, default=None)
    parser.add_argument("--home", type=Path, default=None, help="reuse an imported store")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--patients", type=int, default=0, help="synthetic run size (0: skip)")
    parser.add_argument("--data", type=Path, default=None, help="keep / reuse the synthetic data")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home
        if home is None:
            home = Path(tmp) / "home"
            import_reference_data(args.source or default_reference_dir()[0], home=home)
        data = {}
        folder = args.data or Path(tmp) / "data"
        if args.patients and not folder.exists():
            from sndskit.synthetic import build_config, generate

            config = build_config(
                {"patients": args.patients, "start_year": 2019, "end_year": 2022, "seed": 7}
            )
            generate(config, folder, store=store_path(home), workers=2)
        if args.patients:
            data = {"synth": folder}
        settings = WebSettings(store=store_path(home), workspace=Path(tmp) / "ws", data_dirs=data)
        client = TestClient(create_app(settings), base_url="http://127.0.0.1")
        latency(client, args.rounds)
        if data:
            during_run(client, "synth")


if __name__ == "__main__":
    main()
