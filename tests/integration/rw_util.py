"""Remote-write 1.0 request bodies built here, from the wire formats' specifications (Python 3
stdlib only): a prometheus.WriteRequest in protobuf encoding, then a snappy block made of
literals (valid snappy: compression is optional for an encoder).

WriteRequest{1: repeated TimeSeries}; TimeSeries{1: repeated Label, 2: repeated Sample};
Label{1: name, 2: value}; Sample{1: double value, 2: int64 timestamp}.
"""
import struct

HEADERS = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf",
           "X-Prometheus-Remote-Write-Version": "0.1.0"}


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while n >= 0x80:
        out.append((n & 0x7f) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field(num, wire, payload):
    key = varint((num << 3) | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + payload


def label(name, value):
    """name and value as bytes or str (str is UTF-8 encoded)."""
    n = name.encode() if isinstance(name, str) else name
    v = value.encode() if isinstance(value, str) else value
    return field(1, 2, n) + field(2, 2, v)


def sample(value, ts_ms):
    return field(1, 1, struct.pack("<d", value)) + field(2, 0, varint(ts_ms))


def series(labels, samples):
    """labels: [(name, value)], samples: [(value, timestamp_ms)]."""
    body = b"".join(field(1, 2, label(n, v)) for n, v in labels)
    return body + b"".join(field(2, 2, sample(v, t)) for v, t in samples)


def write_request(all_series):
    return b"".join(field(1, 2, series(l, s)) for l, s in all_series)


def snappy_block(data):
    """A snappy block: the uncompressed length, then literals of up to 65536 bytes."""
    out = bytearray(varint(len(data)))
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        else:
            out.append(61 << 2)
            out += struct.pack("<H", n)
        out += chunk
    return bytes(out)


def body(all_series):
    return snappy_block(write_request(all_series))
