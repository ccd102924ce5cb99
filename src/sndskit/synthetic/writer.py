"""Output layout: one folder per table, one file per part (a contiguous range of persons).

```
DIR/
  IR_BEN_R/part-00000.parquet, part-00001.parquet, …
  ER_PRS_F/part-00000.parquet, …      (ER_PRS_F_2012/ … for archived flux years)
  T_MCO19B/part-00000.parquet, …
  truth/manifest.json
  truth/persons/part-00000.parquet, …
```

Every part has a file for every table (possibly with zero rows), so each table folder is
a complete dataset readable with ``read_parquet('DIR/ER_PRS_F/*.parquet')`` (DuckDB) or
``spark.read.parquet('DIR/ER_PRS_F')``. CSV output uses the same layout with ``;``
separators, a header line and ISO dates.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 1}
# min/max statistics only where a query filters (they cost ~15 % of the writing time)
STATISTICS_COLUMNS = frozenset(
    {
        "FLX_DIS_DTD",
        "FLX_TRT_DTD",
        "EXE_SOI_DTD",
        "DCT_ORD_NUM",
        "BEN_NIR_PSA",
        "BEN_IDT_ANO",
        "PRS_NAT_REF",
        "PHA_PRS_C13",
        "UCD_UCD_COD",
        "CAM_PRS_IDE",
        "BIO_PRS_IDE",
        "ETA_NUM",
        "RSA_NUM",
        "NIR_ANO_17",
        "DGN_PAL",
        "ASS_DGN",
        "CDC_ACT",
        "SOR_ANN",
        "IMB_ALD_DTD",
        "MED_MTF_COD",
        "BEN_DCD_DTE",
        "trap",
        "table_name",
    }
)


def part_file(root: Path, table: str, part: int, fmt: str) -> Path:
    return root / table / f"part-{part:05d}.{fmt}"


class PartWriter:
    """Streams the tables of one part, chunk after chunk (bounded memory)."""

    def __init__(self, root: Path, part: int, fmt: str) -> None:
        self.root = Path(root)
        self.part = part
        self.fmt = fmt
        self._writers: dict[str, pq.ParquetWriter | pacsv.CSVWriter] = {}
        self.rows: dict[str, int] = {}

    def write(self, name: str, table: pa.Table) -> None:
        writer = self._writers.get(name)
        if writer is None:
            path = part_file(self.root, name, self.part, self.fmt)
            path.parent.mkdir(parents=True, exist_ok=True)
            if self.fmt == "parquet":
                stats = [n for n in table.schema.names if n in STATISTICS_COLUMNS]
                writer = pq.ParquetWriter(
                    str(path), table.schema, write_statistics=stats or False, **PARQUET_OPTIONS
                )
            else:
                options = pacsv.WriteOptions(include_header=True, delimiter=";")
                writer = pacsv.CSVWriter(str(path), table.schema, write_options=options)
            self._writers[name] = writer
            self.rows[name] = 0
        if table.num_rows:
            writer.write_table(table)
        self.rows[name] += table.num_rows

    def close(self, expected: dict[str, pa.Schema]) -> dict[str, int]:
        """Close every file; tables of ``expected`` never written get an empty file."""
        for name, schema in expected.items():
            if name not in self._writers:
                self.write(name, schema.empty_table())
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        return dict(sorted(self.rows.items()))

    def abort(self) -> None:
        for writer in self._writers.values():
            with contextlib.suppress(Exception):  # best effort while failing
                writer.close()
        self._writers.clear()
