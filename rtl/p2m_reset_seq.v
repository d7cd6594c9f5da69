// p2m_reset_seq: accumulator reset pulses (long negative current: both DWs to q = 0)
// (contract: rtl/REGISTERS.md "Ports", "Reset"; docs/rtl.md "Reset sequencer").
//
// Two requests, served one at a time (the readout controller never issues both at once):
//   * start_ch : reset the neurons of channel ch selected by mask (those that spiked);
//   * start_all: global reset of every accumulator of every channel (power-up, CTRL.GRST).
// Pulse shape for one request taken at clk edge E:
//   E          : ana_rst_ch / ana_rst_mask / ana_rst_all loaded (setup cycle)
//   E+1        : ana_rst rises, stays high for `width` cycles (width >= 1, sampled at E)
//   E+1+width  : ana_rst falls; hold cycle: targets unchanged, done = 1
//   E+2+width  : targets return to 0, idle (a new request can be taken at this edge)
// So the targets are stable from one cycle before the pulse rises until the cycle after
// it falls (REGISTERS.md), and one request occupies width + 2 cycles.
`timescale 1ns / 1ps
`default_nettype none

module p2m_reset_seq #(
    parameter CH_BITS = 5,
    parameter N_NEUR  = 256
) (
    input  wire               clk,
    input  wire               rst_n,
    input  wire               start_ch,     // per-channel masked reset request (pulse)
    input  wire               start_all,    // global reset request (pulse)
    input  wire [CH_BITS-1:0] ch,           // channel of start_ch
    input  wire [N_NEUR-1:0]  mask,         // neurons of start_ch
    input  wire [15:0]        width,        // RST_WIDTH, cycles (>= 1)
    output wire               busy,
    output wire               done,         // 1 in the hold cycle: the request ends at the next edge
    output reg                ana_rst,
    output reg                ana_rst_all,
    output reg  [CH_BITS-1:0] ana_rst_ch,
    output reg  [N_NEUR-1:0]  ana_rst_mask
);
    localparam [1:0] R_IDLE  = 2'd0,
                     R_SETUP = 2'd1,
                     R_PULSE = 2'd2,
                     R_HOLD  = 2'd3;

    reg [1:0]  rstate;
    reg [15:0] cnt;

    assign busy = (rstate != R_IDLE);
    assign done = (rstate == R_HOLD);

    // the clocked block below changes nothing at other edges (a superset of its
    // conditions: an event-driven simulator then evaluates its body only at such edges;
    // docs/rtl.md "Simulation speed")
    wire act = (rstate != R_IDLE) || start_all || start_ch;

    always @(posedge clk or negedge rst_n) begin
        if (!rst_n) begin
            rstate       <= R_IDLE;
            cnt          <= 16'd0;
            ana_rst      <= 1'b0;
            ana_rst_all  <= 1'b0;
            ana_rst_ch   <= {CH_BITS{1'b0}};
            ana_rst_mask <= {N_NEUR{1'b0}};
        end else if (act) begin
            case (rstate)
                R_IDLE: if (start_all || start_ch) begin
                    ana_rst_all <= start_all;
                    ana_rst_ch  <= start_all ? {CH_BITS{1'b0}} : ch;
                    if (!start_all) ana_rst_mask <= mask;
                    cnt         <= width - 16'd1;
                    rstate      <= R_SETUP;
                end
                R_SETUP: begin
                    ana_rst <= 1'b1;
                    rstate  <= R_PULSE;
                end
                R_PULSE: begin
                    if (cnt == 16'd0) begin
                        ana_rst <= 1'b0;
                        rstate  <= R_HOLD;
                    end else begin
                        cnt <= cnt - 16'd1;
                    end
                end
                default: begin  // R_HOLD
                    ana_rst_all  <= 1'b0;
                    ana_rst_ch   <= {CH_BITS{1'b0}};
                    if (ana_rst_mask != {N_NEUR{1'b0}}) ana_rst_mask <= {N_NEUR{1'b0}};
                    rstate       <= R_IDLE;
                end
            endcase
        end
    end
endmodule

`default_nettype wire
