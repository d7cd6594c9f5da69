// p2m_aer_tx: 4-phase (return-to-zero) AER transmitter with a bundled-data address.
//
// Protocol (design.md "The RTL boundary"):
//   * aer_req rises only while the synchronized ack is low,
//   * aer_addr is loaded at least one cycle before aer_req rises and is stable while
//     aer_req is high,
//   * aer_req falls only after the synchronized ack has risen,
//   * the next aer_req waits for the synchronized ack to fall.
// aer_ack is asynchronous to clk: two flops synchronize it (ack_meta -> ack_sync).
//
// Cycles per event: with a receiver that answers each edge of aer_req L clk cycles after
// the clk edge at which it sees it, one event takes 2*L + 6 cycles (3 cycles per phase
// pair: 2 synchronizer flops + the registered aer_req); L = 0 (ack follows req in the
// same time step) gives 6 cycles per event. See docs/rtl.md "AER throughput".
//
// Upstream interface: valid/ready. An event is taken (ev_valid & ev_ready) in T_IDLE,
// which is also entered right after aer_req falls, so loading the next address overlaps
// the return-to-zero half of the previous handshake.
`timescale 1ns / 1ps

module p2m_aer_tx #(
    parameter AW = 13                 // address width {channel, y, x}
) (
    input  wire          clk,
    input  wire          rst_n,
    // upstream (readout controller)
    input  wire          ev_valid,     // an event address is offered
    input  wire [AW-1:0] ev_addr,      // the offered address
    output wire          ev_ready,     // the transmitter takes it at this edge
    output wire          tx_idle,      // no event in flight and the last handshake returned to zero
    output reg           ev_sent,      // one-cycle pulse: an event was acknowledged (aer_req falls)
    // AER bus
    output reg           aer_req,
    output reg  [AW-1:0] aer_addr,
    input  wire          aer_ack
);
    localparam [1:0] T_IDLE = 2'd0,   // req low; may take a new address
                     T_ARM  = 2'd1,   // address loaded; req rises when the synced ack is low
                     T_WAIT = 2'd2;   // req high; falls when the synced ack is high

    reg [1:0] tstate;
    reg       ack_meta, ack_sync;     // 2-flop synchronizer of aer_ack

    assign ev_ready = (tstate == T_IDLE);
    assign tx_idle  = (tstate == T_IDLE) && !ack_sync;

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            tstate   <= T_IDLE;
            aer_req  <= 1'b0;
            aer_addr <= {AW{1'b0}};
            ev_sent  <= 1'b0;
            ack_meta <= 1'b0;
            ack_sync <= 1'b0;
        end else begin
            // 2-flop synchronizer (written only when it changes)
            if (ack_meta != aer_ack)  ack_meta <= aer_ack;
            if (ack_sync != ack_meta) ack_sync <= ack_meta;
            if (ev_sent) ev_sent <= 1'b0;
            case (tstate)
                T_IDLE: if (ev_valid) begin
                    aer_addr <= ev_addr;
                    tstate   <= T_ARM;
                end
                T_ARM: if (!ack_sync) begin
                    aer_req <= 1'b1;
                    tstate  <= T_WAIT;
                end
                T_WAIT: if (ack_sync) begin
                    aer_req <= 1'b0;
                    ev_sent <= 1'b1;
                    tstate  <= T_IDLE;
                end
                default: begin
                    aer_req <= 1'b0;
                    tstate  <= T_IDLE;
                end
            endcase
        end
    end
endmodule
