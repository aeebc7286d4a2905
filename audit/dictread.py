"""Parquet string columns read dictionary-encoded (``synthproof.io.load(dictionary_strings=True)``).

Parquet stores low-cardinality strings as a dictionary page plus integer indices; decoding them
straight into Arrow dictionary arrays skips materialising every string (several times faster for
categorical columns) and lets :func:`synthproof.schema.arrow_canonical` categorise from the
dictionary. Such columns are marked in their field metadata and stay string columns in meaning:
:func:`plain_strings` gives back the table a plain read would have given.
"""

from __future__ import annotations

import pyarrow as pa

#: Field-metadata key of a string column that :func:`synthproof.io.load` read dictionary-encoded;
#: its value is the column's type in the file (``string`` or ``large_string``).
DICTIONARY_READ_KEY = b"synthproof.dictionary_read"


def small_dictionaries(meta, name: str, limit: int = 1 << 16) -> bool:
    """Whether every row group stores column ``name`` with a dictionary page under ``limit`` bytes.

    Parameters
    ----------
    meta : pyarrow.parquet.FileMetaData
    name : str
        A top-level column (nested leaf names differ: False).
    limit : int, default 65,536
        Compressed bytes of the dictionary page. A free-text or id column overflows the writers'
        1 MiB dictionary limit and falls back to plain pages; decoding it into a dictionary would
        only cost a hash table.

    Returns
    -------
    bool
        False for a file without row groups.
    """
    try:
        i = meta.schema.names.index(name)
    except ValueError:
        return False
    for g in range(meta.num_row_groups):
        c = meta.row_group(g).column(i)
        if not c.has_dictionary_page or not c.dictionary_page_offset or \
                c.data_page_offset - c.dictionary_page_offset > limit:
            return False
    return meta.num_row_groups > 0


def read_as_dictionary(field: pa.Field) -> bool:
    """Whether ``field`` is a string column that :func:`synthproof.io.load` read dictionary-encoded
    (a dictionary type marked with :data:`DICTIONARY_READ_KEY`)."""
    return pa.types.is_dictionary(field.type) and DICTIONARY_READ_KEY in (field.metadata or {})


def plain_strings(table: pa.Table, columns=None) -> pa.Table:
    """Decode the dictionary-read string columns of ``table`` back to ``string``.

    Parameters
    ----------
    table : pyarrow.Table
    columns : collection of str, optional
        Only these columns (default: every dictionary-read column).

    Returns
    -------
    pyarrow.Table
        The table ``dictionary_strings=False`` would have given: same values, nulls and field
        metadata, less :data:`DICTIONARY_READ_KEY`. Other columns are untouched.
    """
    for i, fld in enumerate(table.schema):
        if read_as_dictionary(fld) and (columns is None or fld.name in columns):
            meta = {k: v for k, v in (fld.metadata or {}).items() if k != DICTIONARY_READ_KEY}
            table = table.set_column(i, pa.field(fld.name, pa.string(), nullable=True, metadata=meta or None),
                                     table.column(i).cast(pa.string()))
    return table


def repair_dictionaries(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Invalid UTF-8 in the dictionaries of a dictionary-encoded string column replaced by U+FFFD
    (as ``synthproof.io`` repairs plain string columns); only the dictionaries are checked, and a
    chunk whose dictionary is valid is kept as it is."""
    chunks = []
    for c in col.chunks:
        try:
            c.dictionary.validate(full=True)
        except pa.ArrowInvalid:
            raw = c.dictionary.cast(pa.binary()).to_pylist()
            fixed = pa.array([None if v is None else v.decode("utf-8", errors="replace") for v in raw], type=pa.string())
            c = pa.DictionaryArray.from_arrays(c.indices, fixed)
        chunks.append(c)
    return pa.chunked_array(chunks, type=col.type)
