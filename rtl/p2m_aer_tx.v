// p2m_aer_tx: 4-phase (return-to-zero) AER transmitter with a bundled-data address
// (contract: rtl/REGISTERS.md "Ports", "Timing"; throughput: docs/rtl.md "AER readout").
//
// Protocol (rtl/REGISTERS.md "Ports" and "Timing"):
//   * aer_addr is loaded at least one clk cycle before aer_req rises (bundled data: the
//     address settles before the request) and is stable while aer_req is high,
//   * aer_req rises only while the synchronized ack is low,
//   * aer_req falls only after the synchronized ack has risen,
//   * the next aer_req waits for the synchronized ack to fall.
// aer_ack is asynchronous: p2m_sync2 (both flops on clk) gives ack_s.
//
// Cycles per event: with a receiver that answers each edge of aer_req L clk cycles after
// the clk edge at which it sees it, one event takes 2*L + 6 cycles (3 per half handshake:
// 2 synchronizer flops + the registered aer_req); L = 0 gives 6 cycles per event.
//
// Upstream interface: valid/ready. An event is taken (ev_valid & ev_ready) in T_IDLE, which
// is also entered right after aer_req falls, so loading the next address overlaps the
// return-to-zero half of the previous handshake. ev_done is high in the cycle that ends
// with the edge at which aer_req falls (CNT_EVENTS counts the event at that edge).
`timescale 1ns / 1ps
`default_nettype none

module p2m_aer_tx #(
    parameter AW = 13                 // address width {channel, y, x}
) (
    input  wire          clk,
    input  wire          rst_n,        // synchronized to clk
    // upstream (readout controller)
    input  wire          ev_valid,     // an event address is offered
    input  wire [AW-1:0] ev_addr,      // the offered address
    output wire          ev_ready,     // the transmitter takes it at this edge
    output wire          tx_idle,      // no event in flight and the last handshake returned to zero
    output wire          ev_done,      // aer_req falls at this edge (the event is acknowledged)
    output wire          busy,         // a handshake is in flight (the clock must run)
    // AER bus
    output reg           aer_req,
    output reg  [AW-1:0] aer_addr,
    input  wire          aer_ack       // asynchronous
);
    localparam [1:0] T_IDLE = 2'd0,   // req low; may take a new address
                     T_ARM  = 2'd1,   // address loaded; req rises when the synced ack is low
                     T_WAIT = 2'd2;   // req high; falls when the synced ack is high

    reg [1:0] tstate;
    wire      ack_s;

    p2m_sync2 u_sync_ack (.clk(clk), .rst_n(rst_n), .d(aer_ack), .q(ack_s));

    // The state moves (each condition written once; the clocked block below applies them and
    // is evaluated only at such edges: docs/rtl.md "Simulation speed")
    wire take    = (tstate == T_IDLE) && ev_valid;   // load the offered address
    wire req_up  = (tstate == T_ARM) && !ack_s;      // raise aer_req
    wire req_dn  = (tstate == T_WAIT) && ack_s;      // lower aer_req: the event is acknowledged
    wire illegal = (tstate == 2'd3);
    wire step    = take || req_up || req_dn || illegal;

    assign ev_ready = (tstate == T_IDLE);
    assign tx_idle  = (tstate == T_IDLE) && !ack_s;
    assign ev_done  = req_dn;
    assign busy     = !tx_idle;

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            tstate   <= T_IDLE;
            aer_req  <= 1'b0;
            aer_addr <= {AW{1'b0}};
        end else if (step) begin
            case (tstate)
                T_IDLE: begin
                    aer_addr <= ev_addr;
                    tstate   <= T_ARM;
                end
                T_ARM: begin
                    aer_req <= 1'b1;
                    tstate  <= T_WAIT;
                end
                default: begin                   // T_WAIT, or the unused encoding
                    aer_req <= 1'b0;
                    tstate  <= T_IDLE;
                end
            endcase
        end
    end
endmodule

`default_nettype wire
