"""The locust users of ``benchmarks/bench_portal_load.py``: people reading the public site and
programs reading its JSON API. Run by that script (``locust -f benchmarks/locust_portal.py
--headless …``); the environment variable ``COCITY_LOAD_PATHS`` names a JSON file with the
paths to ask for (written by the script from the published site):

    {"home": "/index.html", "edition": "/editions/2020/index.html",
     "units": ["/units/510100.html", ...], "search": "/assets/units-index.js",
     "api_editions": "/api/v1/editions.json", "api_edition": "/api/v1/editions/2020.json",
     "api_units": ["/api/v1/units/510100.json", ...]}

The same paths are asked of the portal and of the baseline static server (the JSON API paths
end in ``.json``: the portal answers them from its API, the static server from the published
files). Requests are grouped by kind (``page: home``, ``api: unit`` …) so that the script can
report public pages and the API apart. A request fails unless it answers 200 with a body.

Every request is also written, when locust quits, to the JSON file ``COCITY_LOAD_OUT`` as
``[kind, start time (s), response time (ms), failed]``, so that the script computes exact
percentiles (locust's own are rounded to buckets).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

PATHS = json.loads(Path(os.environ["COCITY_LOAD_PATHS"]).read_text(encoding="utf-8"))
WAIT = tuple(float(x) for x in os.environ.get("COCITY_LOAD_WAIT", "0.5,1.5").split(","))
SAMPLES: list[tuple[str, float, float, bool]] = []


@events.request.add_listener
def _record(name: str, response_time: float, exception: Any, start_time: float | None = None,
            **_: Any) -> None:
    SAMPLES.append((name, float(start_time or 0.0), float(response_time),
                    exception is not None))


@events.quitting.add_listener
def _write(**_: Any) -> None:
    Path(os.environ["COCITY_LOAD_OUT"]).write_text(json.dumps(SAMPLES), encoding="utf-8")


class Reader(FastHttpUser):
    """A visitor: a short pause between requests (``COCITY_LOAD_WAIT`` seconds, min,max)."""

    wait_time = between(WAIT[0], WAIT[1])

    def _get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as answer:
            if answer.status_code != 200 or not answer.content:
                answer.failure(f"{answer.status_code} on {path}")

    @task(2)
    def home(self) -> None:
        self._get(PATHS["home"], "page: home")

    @task(1)
    def edition(self) -> None:
        self._get(PATHS["edition"], "page: edition")

    @task(4)
    def unit(self) -> None:
        self._get(random.choice(PATHS["units"]), "page: unit")

    @task(1)
    def search(self) -> None:
        self._get(PATHS["search"], "page: search index")

    @task(1)
    def api_editions(self) -> None:
        self._get(PATHS["api_editions"], "api: editions")

    @task(1)
    def api_edition(self) -> None:
        self._get(PATHS["api_edition"], "api: edition")

    @task(2)
    def api_unit(self) -> None:
        self._get(random.choice(PATHS["api_units"]), "api: unit")
