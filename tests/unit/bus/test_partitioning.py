"""send_raw's partitioner must put every key where aiokafka's (and Kafka's Java
client's) default partitioner puts it: otherwise one meter's events would be
split across partitions and lose their order."""
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given, strategies as st

from shared.bus import default_partitions


@given(st.lists(st.binary(max_size=40), max_size=60), st.integers(min_value=1, max_value=64))
def test_default_partitions_match_aiokafka_for_any_keys(keys, partition_count):
    expected = [DefaultPartitioner()(key, list(range(partition_count)), []) for key in keys]
    assert default_partitions(keys, partition_count) == expected


def test_default_partitions_of_meter_keys_of_mixed_lengths():
    keys = [f"{n:010d}".encode() for n in range(500)] + [f"12000{n:08d}".encode() for n in range(500)]
    keys = keys[::2] + keys[1::2]  # the two lengths interleaved
    expected = [DefaultPartitioner()(key, list(range(12)), []) for key in keys]
    assert default_partitions(keys, 12) == expected
