"""A naive convergence checker, the yardstick of benchmarks/bench_cli.py.

Once a second it reads every expected key in every region with one GetItem each
(eventually consistent, as a participant's script would), until every key is present and
identical in every region; then it exits 0. At the deadline it exits 1. Either way it
prints one JSON line: rounds, requests and the seconds from its first round to the verdict.

Run: python benchmarks/naive_checker.py --endpoint-url URL --key PK SK [--key PK SK ...]
Credentials come from the environment, as for any boto3 script.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import boto3

TABLE = "demo-ecommerce-freetier"
REGIONS = "us-east-1,eu-west-1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--table", default=TABLE)
    parser.add_argument("--regions", default=REGIONS, help="comma-separated")
    parser.add_argument("--key", nargs=2, action="append", required=True, metavar=("PK", "SK"))
    parser.add_argument("--period", type=float, default=1.0, help="seconds between rounds")
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds before giving up")
    args = parser.parse_args(argv)

    session = boto3.session.Session()
    regions = args.regions.split(",")
    clients = {
        region: session.client("dynamodb", region_name=region, endpoint_url=args.endpoint_url)
        for region in regions
    }
    started = time.monotonic()
    rounds = requests = 0
    converged = False
    while not converged and time.monotonic() - started <= args.deadline:
        pause = started + rounds * args.period - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        rounds += 1
        converged = True
        for pk, sk in args.key:
            copies = []
            for region in regions:
                response = clients[region].get_item(
                    TableName=args.table, Key={"PK": {"S": pk}, "SK": {"S": sk}}
                )
                requests += 1
                copies.append(response.get("Item"))
            if copies[0] is None or any(copy != copies[0] for copy in copies):
                converged = False
    verdict = round(time.monotonic() - started, 3)
    print(
        json.dumps(
            {"converged": converged, "rounds": rounds, "requests": requests, "verdict_s": verdict}
        ),
        flush=True,
    )
    return 0 if converged else 1


if __name__ == "__main__":
    sys.exit(main())
