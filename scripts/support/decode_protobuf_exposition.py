#!/usr/bin/env python3
"""Decodes Prometheus's protobuf exposition format independently of Tally.

Input (stdin, or FILE): the body of a scrape with
  Content-Type: application/vnd.google.protobuf;
                proto=io.prometheus.client.MetricFamily; encoding=delimited
i.e. MetricFamily messages, each prefixed by its length as a varint.

The message definitions come from prometheus_metrics.proto beside this script,
compiled at run time with grpc_tools.protoc (PyPI: grpcio-tools) against the
protobuf runtime (PyPI: protobuf); the generated module is cached under the
system temp directory, keyed by the hash of the .proto and the tool versions.

Output (stdout): one JSON document, a list of families in stream order:
  {"name", "help", "type" (MetricType name), "unit",
   "metrics": [{"labels": {name: value}, "timestamp_ms",
                "counter":   {"value", "created", "exemplar"},
                "gauge":     {"value"},
                "untyped":   {"value"},
                "summary":   {"sample_count", "sample_sum",
                              "quantiles": [[q, v], ...], "created"},
                "histogram": {"sample_count", "sample_count_float", "sample_sum",
                              "buckets": [[upper_bound, cumulative_count, exemplar|null], ...],
                              "schema", "zero_threshold", "zero_count", "zero_count_float",
                              "positive_spans": [[offset, length], ...],
                              "positive_deltas", "positive_counts",
                              "negative_spans", "negative_deltas", "negative_counts",
                              "created", "exemplars": [exemplar, ...]}}]}
A field appears only when it is set on the wire (proto2 presence); a repeated
field only when it has at least one element. An exemplar is
{"labels", "value", "timestamp"}; timestamps ("created", an exemplar's
"timestamp") are unix seconds as a float. A classic bucket that carries
cumulative_count_float gets it as a fourth element. Non-finite floats are the
strings "+Inf", "-Inf" and "NaN" (JSON has no numbers for them).

--expand adds to each native histogram the absolute count of every bucket the
spans cover, by bucket index: "native_buckets" (positive buckets) and
"negative_native_buckets" (negative buckets), {"index": count}, from the
deltas (integer histograms) or the counts (float histograms). Buckets whose
count is 0 are left out, so the map compares directly with a sketch's
non-empty bins whatever zero buckets the encoder chose to write inside spans.

Exit status: 0 when the whole stream decoded; 3 on any decode error (a
truncated length or message, a bad varint, bytes the message definitions do
not know: an unknown field number, a field with the wrong wire type, an
unknown enum value; a label name repeated within one label set; with
--expand, spans that disagree with the deltas or counts), with the error on
stderr and nothing on stdout; 4 when the .proto cannot be compiled.
"""

import argparse
import hashlib
import importlib
import json
import math
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO = os.path.join(HERE, "prometheus_metrics.proto")

EXIT_DECODE_ERROR = 3
EXIT_COMPILE_ERROR = 4


class DecodeError(Exception):
    pass


class CompileError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------- compiling


def _tool_versions():
    try:
        from importlib import metadata

        return "grpcio-tools %s, protobuf %s" % (metadata.version("grpcio-tools"), metadata.version("protobuf"))
    except Exception:  # metadata missing: the module versions still key the cache
        import google.protobuf
        import grpc_tools

        return "grpc_tools %s, protobuf %s" % (getattr(grpc_tools, "__version__", "?"), google.protobuf.__version__)


def load_messages(proto_path):
    """Compiles proto_path (cached) and returns the generated module."""
    try:
        import grpc_tools
        from grpc_tools import protoc
    except ImportError as error:
        raise CompileError(EXIT_COMPILE_ERROR, "grpc_tools is not installed (pip install grpcio-tools protobuf): %s" % error)

    with open(proto_path, "rb") as f:
        source = f.read()
    key = hashlib.sha256(source + b"\0" + _tool_versions().encode()).hexdigest()[:24]
    base = os.path.splitext(os.path.basename(proto_path))[0]
    module_name = base + "_pb2"
    cache = os.path.join(tempfile.gettempdir(), "tally-prometheus-proto-" + key)
    generated = os.path.join(cache, module_name + ".py")

    if not os.path.isfile(generated):
        work = tempfile.mkdtemp(prefix="tally-prometheus-proto-build-")
        shutil.copyfile(proto_path, os.path.join(work, base + ".proto"))
        well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
        status = protoc.main(["grpc_tools.protoc", "-I" + work, "-I" + well_known, "--python_out=" + work, base + ".proto"])
        if status != 0 or not os.path.isfile(os.path.join(work, module_name + ".py")):
            shutil.rmtree(work, ignore_errors=True)
            raise CompileError(EXIT_COMPILE_ERROR, "protoc failed on %s (status %s)" % (proto_path, status))
        try:
            os.rename(work, cache)  # atomic: a concurrent run either wins or finds the cache complete
        except OSError:
            if os.path.isfile(generated):
                shutil.rmtree(work, ignore_errors=True)
            else:  # a stale, incomplete cache folder: use this run's output
                cache = work

    sys.path.insert(0, cache)
    try:
        return importlib.import_module(module_name)
    finally:
        sys.path.remove(cache)


# ---------------------------------------------------------------- the stream


def read_varint(data, pos):
    """Reads an unsigned 64-bit varint at pos; returns (value, new_pos)."""
    start = pos
    value = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise DecodeError("truncated varint length prefix at byte %d" % start)
        byte = data[pos]
        pos += 1
        if shift == 63 and byte > 1:
            raise DecodeError("varint length prefix at byte %d overflows 64 bits" % start)
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise DecodeError("varint length prefix at byte %d is longer than 10 bytes" % start)


def unknown_field_numbers(message):
    try:
        from google.protobuf import unknown_fields

        return [field.field_number for field in unknown_fields.UnknownFieldSet(message)]
    except ImportError:  # older protobuf runtimes
        return [field.field_number for field in message.UnknownFields()]


def check_known(message, path):
    """Raises when message (or any message inside it) holds bytes the definitions do not know."""
    numbers = unknown_field_numbers(message)
    if numbers:
        raise DecodeError(
            "%s (%s) has unknown fields %s (an unknown field number, a wrong wire type or an unknown enum value)"
            % (path, message.DESCRIPTOR.name, sorted(set(numbers)))
        )
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if _is_repeated(field):
            for i, item in enumerate(value):
                check_known(item, "%s.%s[%d]" % (path, field.name, i))
        else:
            check_known(value, "%s.%s" % (path, field.name))


def _is_repeated(field):
    is_repeated = getattr(field, "is_repeated", None)
    if is_repeated is not None:
        return is_repeated
    return field.label == field.LABEL_REPEATED


def decode_stream(data, pb):
    families = []
    pos = 0
    while pos < len(data):
        start = pos
        length, pos = read_varint(data, pos)
        if length > len(data) - pos:
            raise DecodeError(
                "MetricFamily #%d at byte %d: length prefix says %d bytes, only %d remain"
                % (len(families), start, length, len(data) - pos)
            )
        family = pb.MetricFamily()
        try:
            family.ParseFromString(data[pos : pos + length])
        except Exception as error:
            raise DecodeError("MetricFamily #%d at byte %d (%d bytes): %s" % (len(families), start, length, error))
        check_known(family, "MetricFamily #%d" % len(families))
        families.append(family)
        pos += length
    return families


# ---------------------------------------------------------------- to JSON


def number(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    return value


def seconds(timestamp):
    return timestamp.seconds + timestamp.nanos / 1e9


def labels(pairs, where):
    result = {}
    for pair in pairs:
        if pair.name in result:
            raise DecodeError("%s: label name %r is repeated" % (where, pair.name))
        result[pair.name] = pair.value
    return result


def exemplar_json(exemplar, where):
    result = {"labels": labels(exemplar.label, where)}
    if exemplar.HasField("value"):
        result["value"] = number(exemplar.value)
    if exemplar.HasField("timestamp"):
        result["timestamp"] = seconds(exemplar.timestamp)
    return result


def scalars(message, names, into):
    for name in names:
        if message.HasField(name):
            into[name] = number(getattr(message, name))
    return into


def expand(spans, deltas, counts, where):
    """Absolute count per bucket index covered by spans (zero counts left out)."""
    if deltas and counts:
        raise DecodeError("%s: both deltas and counts are set" % where)
    covered = sum(span.length for span in spans)
    values = list(deltas) if deltas else list(counts)
    if covered != len(values):
        raise DecodeError("%s: spans cover %d buckets but %d %s are set" % (where, covered, len(values), "deltas" if deltas else "counts"))
    result = {}
    index = 0
    position = 0
    absolute = 0
    for span in spans:
        index += span.offset
        for _ in range(span.length):
            if deltas:
                absolute += values[position]
                if absolute < 0:
                    raise DecodeError("%s: bucket %d has a negative count (%d)" % (where, index, absolute))
                count = absolute
            else:
                count = values[position]
            if count != 0:
                result[str(index)] = number(count)
            position += 1
            index += 1
    return result


def is_native(h):
    return any(h.HasField(name) for name in ("schema", "zero_threshold", "zero_count", "zero_count_float")) or bool(
        h.positive_span or h.negative_span or h.positive_delta or h.negative_delta or h.positive_count or h.negative_count
    )


def histogram_json(h, where, with_expansion):
    result = scalars(h, ["sample_count", "sample_count_float", "sample_sum"], {})
    if h.bucket:
        buckets = []
        for i, bucket in enumerate(h.bucket):
            entry = [
                number(bucket.upper_bound) if bucket.HasField("upper_bound") else None,
                bucket.cumulative_count if bucket.HasField("cumulative_count") else None,
                exemplar_json(bucket.exemplar, "%s.bucket[%d].exemplar" % (where, i)) if bucket.HasField("exemplar") else None,
            ]
            if bucket.HasField("cumulative_count_float"):
                entry.append(number(bucket.cumulative_count_float))
            buckets.append(entry)
        result["buckets"] = buckets
    scalars(h, ["schema", "zero_threshold", "zero_count", "zero_count_float"], result)
    for side in ("positive", "negative"):
        spans = getattr(h, side + "_span")
        deltas = getattr(h, side + "_delta")
        counts = getattr(h, side + "_count")
        if spans:
            result[side + "_spans"] = [[span.offset, span.length] for span in spans]
        if deltas:
            result[side + "_deltas"] = list(deltas)
        if counts:
            result[side + "_counts"] = [number(c) for c in counts]
    if h.HasField("created_timestamp"):
        result["created"] = seconds(h.created_timestamp)
    if h.exemplars:
        result["exemplars"] = [exemplar_json(e, "%s.exemplars[%d]" % (where, i)) for i, e in enumerate(h.exemplars)]
    if with_expansion and is_native(h):
        result["native_buckets"] = expand(h.positive_span, h.positive_delta, h.positive_count, where + " positive buckets")
        result["negative_native_buckets"] = expand(h.negative_span, h.negative_delta, h.negative_count, where + " negative buckets")
    return result


def metric_json(metric, where, with_expansion):
    result = {"labels": labels(metric.label, where)}
    if metric.HasField("timestamp_ms"):
        result["timestamp_ms"] = metric.timestamp_ms
    if metric.HasField("counter"):
        c = metric.counter
        counter = scalars(c, ["value"], {})
        if c.HasField("created_timestamp"):
            counter["created"] = seconds(c.created_timestamp)
        if c.HasField("exemplar"):
            counter["exemplar"] = exemplar_json(c.exemplar, where + ".counter.exemplar")
        result["counter"] = counter
    if metric.HasField("gauge"):
        result["gauge"] = scalars(metric.gauge, ["value"], {})
    if metric.HasField("untyped"):
        result["untyped"] = scalars(metric.untyped, ["value"], {})
    if metric.HasField("summary"):
        s = metric.summary
        summary = scalars(s, ["sample_count", "sample_sum"], {})
        if s.quantile:
            summary["quantiles"] = [
                [number(q.quantile) if q.HasField("quantile") else None, number(q.value) if q.HasField("value") else None]
                for q in s.quantile
            ]
        if s.HasField("created_timestamp"):
            summary["created"] = seconds(s.created_timestamp)
        result["summary"] = summary
    if metric.HasField("histogram"):
        result["histogram"] = histogram_json(metric.histogram, where + ".histogram", with_expansion)
    return result


def family_json(family, index, pb, with_expansion):
    result = {}
    for name in ("name", "help"):
        if family.HasField(name):
            result[name] = getattr(family, name)
    if family.HasField("type"):
        result["type"] = pb.MetricType.Name(family.type)
    if family.HasField("unit"):
        result["unit"] = family.unit
    where = "MetricFamily #%d (%s)" % (index, family.name or "no name")
    result["metrics"] = [metric_json(m, "%s metric #%d" % (where, i), with_expansion) for i, m in enumerate(family.metric)]
    return result


# ---------------------------------------------------------------- main


def main(argv):
    parser = argparse.ArgumentParser(description="Decode Prometheus's delimited protobuf exposition format to JSON.")
    parser.add_argument("file", nargs="?", default="-", help="the exposition bytes (default: stdin)")
    parser.add_argument("--expand", action="store_true", help="add each native histogram's absolute bucket counts by index")
    parser.add_argument("--proto", default=DEFAULT_PROTO, help="the message definitions (default: prometheus_metrics.proto beside this script)")
    args = parser.parse_args(argv)

    try:
        pb = load_messages(args.proto)
    except CompileError as error:
        print("decode_protobuf_exposition: %s" % error, file=sys.stderr)
        return error.status

    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        with open(args.file, "rb") as f:
            data = f.read()

    try:
        families = decode_stream(data, pb)
        document = [family_json(f, i, pb, args.expand) for i, f in enumerate(families)]
    except DecodeError as error:
        print("decode_protobuf_exposition: %s" % error, file=sys.stderr)
        return EXIT_DECODE_ERROR
    json.dump(document, sys.stdout, indent=1, allow_nan=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
