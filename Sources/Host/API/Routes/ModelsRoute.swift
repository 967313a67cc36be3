import HostCore

/// `GET /v1/models` and `GET /v1/models/{id}`: the models the caller may see.
struct ModelsRoute {
    var context: RequestContext

    func list() -> APIResponse {
        .json(ModelList(data: context.visibleModels.map(ModelObject.init)))
    }

    func get(_ id: String) throws(APIError) -> APIResponse {
        .json(ModelObject(try context.model(named: id)))
    }
}
