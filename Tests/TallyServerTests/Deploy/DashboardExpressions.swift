/// Every `"expr"` string of a Grafana dashboard.
enum DashboardExpressions {
    static func all(_ json: Any) -> [String] {
        if let object = json as? [String: Any] {
            var found: [String] = []
            if let expr = object["expr"] as? String { found.append(expr) }
            for value in object.values { found += all(value) }
            return found
        }
        if let array = json as? [Any] { return array.flatMap(all) }
        return []
    }
}
