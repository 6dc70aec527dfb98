/// Which primary serves each of the 16,384 slots, as one node reported it (`CLUSTER SHARDS`, or
/// `CLUSTER SLOTS` on a server older than 7.0).
struct ClusterTopology: Sendable, Equatable {
    /// A node's address, as the cluster announces it.
    struct Node: Sendable, Hashable, CustomStringConvertible {
        var host: String
        var port: Int
        var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The primary of each slot (nil: no node serves it now).
    private(set) var primaries: [Node?] = Array(repeating: nil, count: HashSlot.count)
    /// The primaries (kept with the map: commands look at it, so it is never recomputed from 16,384 slots).
    private(set) var nodes: Set<Node> = []

    /// `node` serves `slot` from now on (a `MOVED`, or a range read from the cluster).
    mutating func assign(_ slot: Int, to node: Node) {
        primaries[slot] = node
        nodes.insert(node)
    }

    /// From `CLUSTER SHARDS`: each shard's slot ranges and its online primary. `tls` picks the
    /// announced TLS port over the plain one.
    static func fromShards(_ reply: RESPValue, tls: Bool) -> ClusterTopology? {
        guard let shards = reply.array else { return nil }
        var topology = ClusterTopology()
        for shard in shards {
            let fields = Self.fields(shard)
            guard let slots = fields["slots"]?.array, let nodes = fields["nodes"]?.array else { return nil }
            let primary = nodes.lazy.map(Self.fields).first { node in
                node["role"]?.string == "master" && (node["health"]?.string ?? "online") == "online"
            }
            guard let primary, let host = (primary["ip"] ?? primary["endpoint"])?.string,
                  let port = (tls ? primary["tls-port"] : primary["port"])?.int ?? primary["port"]?.int else { continue }
            let node = Node(host: host, port: port)
            for i in stride(from: 0, to: slots.count - 1, by: 2) {
                guard let start = slots[i].int, let end = slots[i + 1].int, start >= 0, end < HashSlot.count, start <= end else { continue }
                for slot in start...end { topology.assign(slot, to: node) }
            }
        }
        return topology
    }

    /// From `CLUSTER SLOTS`: `[start, end, [ip, port, id], replicas…]` per range.
    static func fromSlots(_ reply: RESPValue) -> ClusterTopology? {
        guard let ranges = reply.array else { return nil }
        var topology = ClusterTopology()
        for range in ranges {
            guard let parts = range.array, parts.count >= 3, let start = parts[0].int, let end = parts[1].int,
                  let primary = parts[2].array, primary.count >= 2, let host = primary[0].string, let port = primary[1].int,
                  start >= 0, end < HashSlot.count, start <= end else { continue }
            for slot in start...end { topology.assign(slot, to: Node(host: host, port: port)) }
        }
        return topology
    }

    /// A RESP3 map or a RESP2 flat array of name, value pairs, as a dictionary.
    private static func fields(_ value: RESPValue) -> [String: RESPValue] {
        var result: [String: RESPValue] = [:]
        if let entries = value.mapEntries {
            for entry in entries { if let key = entry.key.string { result[key] = entry.value } }
        } else if let items = value.array {
            for i in stride(from: 0, to: items.count - 1, by: 2) { if let key = items[i].string { result[key] = items[i + 1] } }
        }
        return result
    }
}
