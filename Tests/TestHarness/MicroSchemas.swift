import Foundation

/// Validates JSON documents against the NATS micro v1 schemas with Python's `jsonschema`.
public func validateAgainstMicroSchema(_ documents: [(schema: String, json: [UInt8])]) throws -> String {
    let schemas = projectRoot.deletingLastPathComponent().appendingPathComponent("shared/nats-micro-schemas")
    guard FileManager.default.fileExists(atPath: schemas.appendingPathComponent("ping_response.json").path)
    else {
        throw HarnessError("schemas not found at \(schemas.path)")
    }
    return try validate(documents, schemasIn: schemas)
}

/// Validates JSON documents against JSON Schemas (draft 7) in `schemas`, with Python's
/// `jsonschema`: "valid", or every error found, one per line.
public func validate(_ documents: [(schema: String, json: [UInt8])], schemasIn schemas: URL) throws -> String
{
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
        "micro-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var pairs: [String] = []
    for (index, document) in documents.enumerated() {
        let file = directory.appendingPathComponent("\(index).json")
        try Data(document.json).write(to: file)
        pairs.append("\(schemas.appendingPathComponent(document.schema).path)=\(file.path)")
    }
    let script = """
        import json, sys, jsonschema
        errors = []
        for pair in sys.argv[1:]:
            schema_path, doc_path = pair.split("=", 1)
            schema = json.load(open(schema_path)); doc = json.load(open(doc_path))
            validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
            errors += [f"{schema_path.rsplit('/',1)[-1]}: {e.message}" for e in validator.iter_errors(doc)]
        print("\\n".join(errors) if errors else "valid")
        """
    return try ChildProcess.runBlocking("python3", ["-c", script] + pairs).output
        .trimmingCharacters(in: .whitespacesAndNewlines)
}
