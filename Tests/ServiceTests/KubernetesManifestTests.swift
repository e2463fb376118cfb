import Foundation
import TestHarness
import Testing

/// The Kubernetes manifests (`deploy/kubernetes`) and the compose file
/// (`deploy/compose.yaml`) with the secrets and files `scripts/k8s-config.sh` makes: valid against the API's schemas (strict), and consistent with the code they run —
/// every environment variable is one the process reads (from its `--help`), every secret
/// and key they use is one the script makes, file paths are on mounted volumes, NATS routes
/// match the StatefulSet, every container has probes and resources.
@Suite("Kubernetes manifests and compose file", .timeLimit(.minutes(3)))
struct KubernetesManifestTests {
    @Test func manifestsMatchTheSchemasAndTheCode() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent(
            "k8s-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        var environment = ProcessInfo.processInfo.environment
        environment["SECRETS_DIR"] = work.appendingPathComponent("secrets").path
        environment["NATSWIRE"] = try ServiceProcess.locate("natswire").path
        // The compose file's files too (scripts/compose-config.sh, into a folder of the test's).
        let composeFiles = work.appendingPathComponent("compose-generated")
        environment["FILES_DIR"] = composeFiles.path
        let script = projectRoot.appendingPathComponent("scripts/k8s-config.sh").path
        let generated = try await ChildProcess.run(
            "/bin/sh", ["-c", "'\(script)' --evaluation > '\(work.path)/secrets.yaml'"],
            environment: environment)
        #expect(generated.status == 0, "\(generated.output)")
        // Without database URLs and without --evaluation it refuses, naming what is missing.
        let refused = try await ChildProcess.run(script, [], environment: environment)
        #expect(refused.status == 2 && refused.output.contains("AUTH_MONGO_URL"), "\(refused.output)")

        let helps = work.appendingPathComponent("help")
        try FileManager.default.createDirectory(at: helps, withIntermediateDirectories: true)
        for executable in ["Gateway", "AuthService", "CustomersService", "ProductsService"] {
            let help = try await ChildProcess.run(
                try ServiceProcess.locate(executable).path, ["--help"], errorsToo: false)
            try Data(help.output.utf8).write(to: helps.appendingPathComponent("\(executable).help"))
        }
        let check = try await ChildProcess.run(
            projectRoot.appendingPathComponent(".state/venv/bin/python").path,
            [
                projectRoot.appendingPathComponent("scripts/lib/check-k8s-manifests.py").path,
                work.appendingPathComponent("secrets.yaml").path, helps.path,
                projectRoot.appendingPathComponent("deploy/kubernetes/base").path,
                projectRoot.appendingPathComponent("deploy/kubernetes/evaluation").path,
            ])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("ok: 18 resources"), "\(check.output)")

        let compose = try await ChildProcess.run(
            projectRoot.appendingPathComponent(".state/venv/bin/python").path,
            [
                projectRoot.appendingPathComponent("scripts/lib/check-compose.py").path,
                projectRoot.appendingPathComponent("deploy/compose.yaml").path, composeFiles.path, helps.path,
            ])
        #expect(compose.status == 0 && compose.output.contains("ok: 7 services"), "\(compose.output)")
    }
}
