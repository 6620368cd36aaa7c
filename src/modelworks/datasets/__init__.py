"""Datasets: immutable Parquet versions imported from uploads and connections, explored, profiled and
checked by quality rules. The data work itself is done by ``modelworks.engine``.
"""
