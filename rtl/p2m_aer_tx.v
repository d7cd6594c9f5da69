// p2m_aer_tx: 4-phase (return-to-zero) AER transmitter with a bundled-data address.
//
// Protocol (design.md "The RTL boundary"):
//   * aer_req rises only while the synchronized ack is low,
//   * aer_addr is loaded at least one cycle before aer_req rises and is stable while
//     aer_req is high,
//   * aer_req falls only after the synchronized ack has risen,
//   * the next aer_req waits for the synchronized ack to fall.
// aer_ack is asynchronous to clk: two flops synchronize it (ack_meta -> ack_sync). The first
// flop, ack_meta, is clocked by the free-running clk (it lives in p2m_window_timer's process,
// which also opens the clock gate while aer_ack != ack_meta); ack_sync and everything else
// here run on the gated clk_act. So the synchronizer samples aer_ack at every clk edge
// whether or not the gate is open, and a wait for the receiver costs no gated edges.
//
// Cycles per event: with a receiver that answers each edge of aer_req L clk cycles after
// the clk edge at which it sees it, one event takes 2*L + 6 cycles (3 cycles per phase
// pair: 2 synchronizer flops + the registered aer_req); L = 0 (ack follows req in the
// same time step) gives 6 cycles per event. See docs/rtl.md "AER throughput".
//
// Upstream interface: valid/ready. An event is taken (ev_valid & ev_ready) in T_IDLE,
// which is also entered right after aer_req falls, so loading the next address overlaps
// the return-to-zero half of the previous handshake.
//
// Clock gate: tx_active = 1 when a register of this module changes at the next clk_act edge
// (an ack level to pass on to ack_sync, the ev_sent pulse to clear, an offered event to take,
// the awaited ack level seen in T_ARM / T_WAIT). While the transmitter only waits for the
// receiver (T_ARM with ack_sync = 1, T_WAIT with ack_sync = 0, no ack edge in flight) it is
// 0 and the gated domain can stop; an ack edge then reopens the gate through ack_meta.
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
    output wire          tx_active,    // a register here changes at the next clk edge (gate)
    // AER bus
    output reg           aer_req,
    output reg  [AW-1:0] aer_addr,
    input  wire          ack_meta      // aer_ack after the first synchronizer flop (free-running clk)
);
    localparam [1:0] T_IDLE = 2'd0,   // req low; may take a new address
                     T_ARM  = 2'd1,   // address loaded; req rises when the synced ack is low
                     T_WAIT = 2'd2;   // req high; falls when the synced ack is high

    reg [1:0] tstate;
    reg       ack_sync;               // 2nd flop of the aer_ack synchronizer

    assign ev_ready  = (tstate == T_IDLE);
    assign tx_idle   = (tstate == T_IDLE) && !ack_sync;
    assign tx_active = ev_sent || (ack_sync != ack_meta) ||
                       ((tstate == T_IDLE) ? ev_valid  :
                        (tstate == T_ARM)  ? !ack_sync :
                        (tstate == T_WAIT) ? ack_sync  : 1'b1);

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            tstate   <= T_IDLE;
            aer_req  <= 1'b0;
            aer_addr <= {AW{1'b0}};
            ev_sent  <= 1'b0;
            ack_sync <= 1'b0;
        end else begin
            // 2nd synchronizer flop (written only when it changes)
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
