import Testing

@testable import NATSWire

/// The acknowledgement's byte reader, and when it leaves the work to the JSON decoder.
@Suite(.timeLimit(.minutes(5))) struct PubAckTests {
    @Test func readsTheUsualAcknowledgement() {
        #expect(
            PubAck.parse(Array(#"{"stream":"ORDERS","seq":42}"#.utf8))
                == PubAck(stream: "ORDERS", sequence: 42))
        #expect(
            PubAck.parse(Array(#" { "stream" : "S", "domain":"hub", "seq": 7, "duplicate": true } "#.utf8))
                == PubAck(stream: "S", sequence: 7, duplicate: true, domain: "hub"))
        #expect(PubAck.parse(Array(#"{"stream":"S","seq":1,"duplicate":false}"#.utf8))?.duplicate == false)
    }

    @Test func leavesEverythingElseToTheDecoder() throws {
        let error = #"{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 2"}}"#
        #expect(PubAck.parse(Array(error.utf8)) == nil)
        #expect(throws: JetStreamError.self) { _ = try JetStream.decode(Array(error.utf8), as: PubAck.self) }
        for other in [
            #"{"stream":"S\"x","seq":1}"#, #"{"stream":"S"}"#, #"{"stream":"S","seq":1.5}"#,
            #"{"stream":"S","seq":1"#,
            #"{"stream":"S","seq":99999999999999999999}"#, "", "[]", #"{"stream":"S","seq":1,"x":[1]}"#,
        ] {
            #expect(PubAck.parse(Array(other.utf8)) == nil, "\(other)")
        }
    }
}

/// What the JetStream API might send that is not what we expect: a clear error or ignored,
/// never a crash.
@Suite(.timeLimit(.minutes(5))) struct JetStreamReplyTests {
    @Test func unknownFieldsAreIgnoredAndMissingOnesAreClear() throws {
        let info = try JetStream.decode(
            Array(
                #"{"type":"x","config":{"name":"S","subjects":["s"],"future_field":{"a":[1]}},"state":{"messages":1,"bytes":2,"first_seq":1,"last_seq":1,"consumer_count":0,"new":true},"created":"2026-12-01T00:00:00Z","cluster":{"leader":"n1"}}"#
                    .utf8), as: StreamInfo.self)
        #expect(info.config.name == "S" && info.state.messages == 1)
        // A reply that lacks what the answer needs: a decoding error, not a crash.
        #expect(throws: DecodingError.self) {
            _ = try JetStream.decode(Array(#"{"config":{"name":"S"}}"#.utf8), as: StreamInfo.self)
        }
        for garbage in ["", "not json", "[1,2]", #"{"error":"a string, not an object"}"#, "{\"stream\":"] {
            #expect(throws: (any Error).self) {
                _ = try JetStream.decode(Array(garbage.utf8), as: PubAck.self)
            }
            #expect(PubAck.parse(Array(garbage.utf8)) == nil)
        }
        // An error with only a code is still an error.
        #expect(throws: JetStreamError.self) {
            _ = try JetStream.decode(Array(#"{"error":{"code":503}}"#.utf8), as: PubAck.self)
        }
    }
}
