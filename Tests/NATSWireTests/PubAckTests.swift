import Testing

@testable import NATSWire

/// The acknowledgement's byte reader, and when it leaves the work to the JSON decoder.
@Suite struct PubAckTests {
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
