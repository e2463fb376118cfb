import Foundation
import NATSWire
import ServiceRuntime
import Testing

/// Where settings come from and what is wrong with them, through swift-configuration.
@Suite(.timeLimit(.minutes(5))) struct SettingsReaderTests {
    static let variables = [
        ConfigVariable("HTTP_PORT", help: "port", default: "8080"),
        ConfigVariable("NATS_URL", help: "url"),
        ConfigVariable("LOG_FORMAT", help: "format", default: "text"),
    ]

    private func dotEnv(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(
            "settings-\(UUID().uuidString).env"
        )
        .path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theCommandLineWinsOverTheEnvironmentWhichWinsOverDotEnv() throws {
        let file = try dotEnv(
            "# comment\nexport HTTP_PORT=7000\nNATS_URL='nats://file:4222'\nLOG_FORMAT=\"json\"\n")
        let reader = SettingsReader(
            arguments: ["service", "--http-port", "9000"],
            environment: ["HTTP_PORT": "8000", "NATS_URL": "nats://env:4222"], dotEnv: file,
            known: Self.variables)
        #expect(reader.int("HTTP_PORT", default: 1, range: 1...65535) == 9000)
        #expect(reader.string("NATS_URL") == "nats://env:4222")
        #expect(reader.oneOf("LOG_FORMAT", ["text", "json"], default: "text") == "json")
        #expect(reader.problems.isEmpty)
        let equals = SettingsReader(
            arguments: ["service", "--nats-url=nats://cli:4222"], environment: [:], dotEnv: nil)
        #expect(equals.string("NATS_URL") == "nats://cli:4222")
    }

    @Test func everyProblemAtOnceUnknownOptionsIncluded() {
        let reader = SettingsReader(
            arguments: ["service", "--htp-port", "1", "--help"], environment: ["HTTP_PORT": "99999"],
            dotEnv: nil,
            known: Self.variables)
        _ = reader.int("HTTP_PORT", default: 8080, range: 1...65535)
        _ = reader.string("NATS_URL", required: true)
        _ = reader.oneOf("LOG_FORMAT", ["text", "json"], default: "text")
        #expect(
            reader.problems == [
                "unknown option --htp-port", #"HTTP_PORT must be a whole number in 1...65535, got "99999""#,
                "NATS_URL is required",
            ])
        #expect(throws: ConfigurationError.self) { try reader.validate() }
    }

    @Test func eventSettingsMakeTheStreamTheyDescribe() {
        let reader = SettingsReader(
            arguments: ["service"],
            environment: [
                "EVENTS_STREAM": "DOMAIN", "EVENTS_MAX_AGE": "3600", "EVENTS_MAX_BYTES": "1048576",
                "EVENTS_BATCH_INTERVAL": "100",
            ],
            dotEnv: nil, known: EventSettings.variables)
        let settings = EventSettings(reader)
        #expect(reader.problems.isEmpty && settings.enabled)
        let config = settings.streamConfig
        #expect(config.name == "DOMAIN" && config.subjects == ["*.events.>"] && config.storage == .file)
        #expect(config.maxAgeNanoseconds == 3_600_000_000_000 && config.maxBytes == 1_048_576)
        #expect(
            config.duplicateWindowNanoseconds == 120_000_000_000, "the window that drops a relay's repeats")
        let off = EventSettings(
            SettingsReader(
                arguments: ["service"], environment: ["EVENTS": "off"], dotEnv: nil,
                known: EventSettings.variables))
        #expect(!off.enabled && off.streamConfig.maxBytes == nil)
        #expect(settings.batchInterval == .milliseconds(100) && off.batchInterval == .milliseconds(200))
        let tooLong = SettingsReader(
            arguments: ["service"], environment: ["EVENTS_BATCH_INTERVAL": "60000"], dotEnv: nil,
            known: EventSettings.variables)
        _ = EventSettings(tooLong)
        #expect(tooLong.problems.contains { $0.contains("EVENTS_BATCH_INTERVAL") })
    }

    @Test func natsSpinGoesIntoTheClientOptions() throws {
        func settings(_ environment: [String: String]) -> (NATSSettings, [String]) {
            let reader = SettingsReader(
                arguments: ["service"], environment: environment, dotEnv: nil, known: NATSSettings.variables)
            return (NATSSettings(reader), reader.problems)
        }
        let (spinning, none) = settings(["NATS_SPIN_MICROSECONDS": "150"])
        #expect(none.isEmpty)
        #expect(try spinning.options(name: "t").spinBeforeSleep == .microseconds(150))
        let (plain, _) = settings([:])
        #expect(try plain.options(name: "t").spinBeforeSleep == .zero)
        let (_, problems) = settings(["NATS_SPIN_MICROSECONDS": "-1"])
        #expect(problems == [#"NATS_SPIN_MICROSECONDS must be a whole number in 0...100000, got "-1""#])
    }

    @Test func optionsAreTheVariablesInKebabCase() {
        #expect(SettingsReader.option("NATS_NKEY_SEED_FILE") == "--nats-nkey-seed-file")
        let text = helpText(service: "S", summary: "what", variables: Self.variables)
        #expect(
            text.contains("--http-port VALUE for") && text.contains("HTTP_PORT")
                && text.contains("(default: 8080)"))
    }
}
