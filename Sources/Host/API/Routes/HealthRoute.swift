import HostCore

/// `GET /health`: 200 `{"status":"ok"}` when every model is ready, 503 `{"status":"loading"}` while any loads,
/// 200 `{"status":"degraded","failed":[ids]}` when none loads but some failed to load. Needs no API key.
struct HealthRoute {
    var service: any ModelService

    private struct Body: Encodable {
        var status: String
        var failed: [String]?
    }

    func respond() -> APIResponse {
        let models = service.models()
        if models.contains(where: { $0.status == .loading }) {
            var response = APIResponse.json(Body(status: "loading"), status: .serviceUnavailable)
            response.headers.add(name: "Retry-After", value: "5")
            return response
        }
        let failed = models.filter { $0.status == .failed }.map(\.id)
        return .json(failed.isEmpty ? Body(status: "ok") : Body(status: "degraded", failed: failed))
    }
}

/// `GET /metrics`: the service's metrics and the HTTP counters, in Prometheus text format. Needs no API key.
struct MetricsRoute {
    var service: any ModelService
    var metrics: HTTPMetrics

    func respond() -> APIResponse {
        var text = service.metricsText()
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        text += metrics.render()
        return .text(text, contentType: "text/plain; version=0.0.4; charset=utf-8")
    }
}
