extension RedisCommand {
    /// The keys of this command, for routing in a cluster: nil for a command that has none (it may
    /// run on any node). Covers the commands Tally and its tests send; any other command is taken to
    /// have its key first, as most Redis commands do.
    var keys: [String]? {
        func text(_ argument: RedisArgument) -> String {
            switch argument {
            case .string(let s): return s
            case .bytes(let buffer): return String(buffer: buffer)
            case .integer(let i): return String(i)
            case .double(let d): return String(d)
            }
        }
        func texts(_ range: Range<Int>) -> [String] { range.clamped(to: 1..<arguments.count).map { text(arguments[$0]) } }
        let name = self.name
        switch name {
        case "PING", "INFO", "TIME", "HELLO", "AUTH", "SELECT", "DBSIZE", "FLUSHALL", "FLUSHDB", "WAIT", "ASKING", "READONLY",
             "MULTI", "EXEC", "DISCARD", "UNWATCH", "ECHO", "SAVE", "BGSAVE", "LASTSAVE", "ROLE", "SHUTDOWN":
            return nil
        case "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO":
            guard arguments.count > 2, let count = Int(text(arguments[2])), count > 0, arguments.count >= 3 + count else { return nil }
            return texts(3..<(3 + count))
        case "XREAD", "XREADGROUP":
            guard let streams = arguments.firstIndex(where: { text($0).uppercased() == "STREAMS" }) else { return nil }
            let rest = arguments.count - streams - 1
            return texts((streams + 1)..<(streams + 1 + rest / 2))
        case "DEL", "UNLINK", "EXISTS", "TOUCH", "MGET", "WATCH":
            return texts(1..<arguments.count)
        case "MSET", "MSETNX":
            return stride(from: 1, to: arguments.count, by: 2).map { text(arguments[$0]) }
        case "XGROUP CREATE", "XGROUP DESTROY", "XGROUP SETID", "XGROUP CREATECONSUMER", "XGROUP DELCONSUMER",
             "XINFO STREAM", "XINFO GROUPS", "XINFO CONSUMERS", "OBJECT ENCODING", "OBJECT FREQ", "OBJECT IDLETIME":
            return arguments.count > 2 ? [text(arguments[2])] : nil
        default:
            // Container commands (CLUSTER …, SCRIPT …, CONFIG …) name no key; the rest have theirs first.
            if name.contains(" ") || ["CLUSTER", "SCRIPT", "CONFIG", "CLIENT", "COMMAND", "FUNCTION", "ACL", "MEMORY"].contains(name) { return nil }
            return arguments.count > 1 ? [text(arguments[1])] : nil
        }
    }

    /// The slot all of this command's keys hash to; nil when it has none. A command whose keys span
    /// slots is refused before it is sent, naming them.
    func slot() throws -> Int? {
        // The common case without building `keys`: a command in capitals whose only key comes first.
        if arguments.count > 1, case .string(let word) = arguments[0], Self.keyFirst.contains(word) {
            switch arguments[1] {
            case .string(let key): return HashSlot.of(key)
            case .bytes(let buffer): return buffer.withUnsafeReadableBytes { HashSlot.of(bytes: $0) }
            case .integer, .double: break
            }
        }
        guard let keys, let first = keys.first else { return nil }
        let slot = HashSlot.of(first)
        for key in keys.dropFirst() where HashSlot.of(key) != slot {
            throw RedisError.crossSlot(command: name, keys: keys)
        }
        return slot
    }

    /// Commands, written in capitals, whose one key is their first argument (what ``keys`` says of
    /// them too; a test holds the two to the same answer).
    static let keyFirst: Set<String> = [
        "GET", "SET", "SETNX", "GETDEL", "INCR", "INCRBY", "DECR", "DECRBY", "APPEND", "STRLEN", "TYPE", "TTL", "PTTL",
        "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST",
        "HSET", "HGET", "HMGET", "HDEL", "HGETALL", "HINCRBY", "HINCRBYFLOAT", "HLEN", "HEXISTS", "HKEYS", "HVALS", "HSCAN",
        "SADD", "SREM", "SCARD", "SISMEMBER", "SMISMEMBER", "SMEMBERS",
        "ZADD", "ZREM", "ZCARD", "ZSCORE", "ZMSCORE", "ZRANGE", "ZRANGEBYSCORE", "ZREMRANGEBYSCORE", "ZPOPMIN", "ZCOUNT", "ZINCRBY",
        "XADD", "XACK", "XLEN", "XRANGE", "XREVRANGE", "XDEL", "XTRIM", "XPENDING", "XCLAIM", "XAUTOCLAIM",
        "RPUSH", "LPUSH", "LRANGE", "LLEN",
    ]
}
