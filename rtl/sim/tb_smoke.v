// Plain-Verilog smoke bench of p2m_top (not in CI; the full verification is tb/ with cocotb;
// contract: rtl/REGISTERS.md).
//   iverilog -g2005 -o /tmp/smoke.vvp -s tb_smoke $(grep -v '^#' rtl/files.f) \
//            tb/hdl/p2m_tb_agents.v rtl/sim/tb_smoke.v
//   vvp /tmp/smoke.vvp [+seed=N] [+maxdly=N] [+windows=N] [+density=N]
//       [+fixdly=L] [+longdly=N +longpct=P] [+jitter] [+midreset] [+trace=FILE] [+freeclk]
// Clocks: clk_slow (1 MHz, always on) and clk from p2m_tb_clock_source, which runs while the
// chip's clk_req or this bench's host_req is high. The bench holds host_req for its APB
// accesses and waits and drops it while it waits for windows; +freeclk keeps it high (a
// free-running clk). +trace=FILE writes every AER event, reset pulse and programming pulse
// (no times): the traces of a run with and without +freeclk must be identical.
// Checks: ID/reset values, pslverr rules, power-up global reset length, the AER 4-phase
// protocol on every transaction, no lost/duplicated/out-of-order spike over random flags
// and random ack delays, per-channel reset masks, programming pulse counts and widths.
`timescale 1ns/1ps
module tb_smoke;
    reg rst_n = 0, host_req = 1, freeclk = 0;
    wire clk, clk_slow, clk_req;
    p2m_tb_slow_clock #(.PERIOD_PS(1000000)) u_slow (.clk(clk_slow));
    p2m_tb_clock_source #(.PERIOD_PS(10000), .PHASE_PS(3000), .START_PS(250000)) u_src (
        .req(clk_req | host_req), .clk(clk));
    task wait_window;             // wait for the next ana_sample with the host's clock off
        begin
            if (!freeclk) host_req = 0;
            @(posedge ana_sample);
            host_req = 1;
        end
    endtask
    reg psel = 0, penable = 0, pwrite = 0;
    reg [11:0] paddr = 0;
    reg [31:0] pwdata = 0;
    wire [31:0] prdata;
    wire pready, pslverr;
    wire aer_req; reg aer_ack = 0; wire [12:0] aer_addr;
    wire ana_sample; wire [4:0] ana_ch_sel; wire [255:0] ana_flags;
    wire ana_rst, ana_rst_all; wire [4:0] ana_rst_ch; wire [255:0] ana_rst_mask;
    wire ana_prog; wire [1:0] ana_prog_target; wire [9:0] ana_prog_index; wire ana_prog_dir;
    wire [2:0] phase; wire irq;

    p2m_top dut (.clk(clk), .clk_slow(clk_slow), .rst_n(rst_n), .clk_req(clk_req), .psel(psel), .penable(penable), .pwrite(pwrite),
        .paddr(paddr), .pwdata(pwdata), .prdata(prdata), .pready(pready), .pslverr(pslverr),
        .aer_req(aer_req), .aer_ack(aer_ack), .aer_addr(aer_addr),
        .ana_sample(ana_sample), .ana_ch_sel(ana_ch_sel), .ana_flags(ana_flags),
        .ana_rst(ana_rst), .ana_rst_all(ana_rst_all), .ana_rst_ch(ana_rst_ch),
        .ana_rst_mask(ana_rst_mask), .ana_prog(ana_prog), .ana_prog_target(ana_prog_target),
        .ana_prog_index(ana_prog_index), .ana_prog_dir(ana_prog_dir), .phase(phase), .irq(irq));

    integer seed = 1, fixdly = -1, maxdly = 4, nwin = 20, density = 8, errors = 0;
    integer longdly = 0, longpct = 0, jitter = 0;   // +longdly=N +longpct=P +jitter (see rx)
    integer cyc = 0, nslow = 0;
    always @(posedge clk) cyc = cyc + 1;
    always @(posedge clk_slow) nslow = nslow + 1;

    // ------------------------------------------------------------ analog flag model
    reg [255:0] latched [0:31];   // comparator flags latched at ana_sample
    integer c, b, w;
    assign ana_flags = latched[ana_ch_sel];
    // expected spike queue (row-major per channel, channels in order)
    reg [12:0] expq [0:1048575];
    integer exp_wr = 0, exp_rd = 0;
    always @(posedge clk) if (ana_sample) begin
        for (c = 0; c < 32; c = c + 1) begin
            for (b = 0; b < 256; b = b + 1) begin
                latched[c][b] = (($random(seed) & 255) < density);
                if (latched[c][b]) begin expq[exp_wr] = {c[4:0], b[7:0]}; exp_wr = exp_wr + 1; end
            end
        end
    end

    // ------------------------------------------------------------ AER receiver + monitor
    // Delay of each half handshake, in clk cycles: +fixdly=L, else random 0..maxdly; with
    // +longdly=N, longpct % of them are random 0..N instead (long backpressure). The ack
    // changes 1 ns after a clk edge, or with +jitter 1..9 ns after it (asynchronous).
    integer d, dj, nrx = 0, t_first = 0, t_last = 0;
    task pick_dly;
        begin
            if (fixdly >= 0) d = fixdly;
            else begin
                d = (maxdly > 0) ? ({$random(seed)} % (maxdly + 1)) : 0;
                if (longdly > 0) begin
                    if ({$random(seed)} % 100 < longpct) d = {$random(seed)} % (longdly + 1);
                end
            end
            dj = (jitter != 0) ? 1 + {$random(seed)} % 9 : 1;
        end
    endtask
    always begin : rx
        @(posedge aer_req);
        if (nrx == 0) t_first = cyc;
        pick_dly;
        repeat (d) @(posedge clk);
        if (aer_addr !== expq[exp_rd]) begin
            $display("ERROR t=%0t rx addr %h expected %h (#%0d)", $time, aer_addr, expq[exp_rd], exp_rd);
            errors = errors + 1;
        end
        exp_rd = exp_rd + 1; nrx = nrx + 1;
        #(dj) aer_ack = 1;
        @(negedge aer_req);
        pick_dly;
        repeat (d) @(posedge clk);
        #(dj) aer_ack = 0;
        t_last = cyc;
    end
    reg [12:0] addr_at_req;
    always @(posedge aer_req) begin
        addr_at_req = aer_addr;
        if (aer_ack) begin $display("ERROR req rose while ack high"); errors = errors + 1; end
    end
    always @(aer_addr) if (aer_req && rst_n) begin $display("ERROR addr changed while req high"); errors = errors + 1; end
    always @(negedge aer_req) if (rst_n === 1'b1 && !aer_ack) begin $display("ERROR req fell before ack"); errors = errors + 1; end

    // ------------------------------------------------------------ reset pulse monitor
    integer rst_hi = 0, n_chrst = 0;
    reg [255:0] mask_exp;
    always @(posedge clk) begin
        if (ana_rst) rst_hi = rst_hi + 1;
        else if (rst_hi != 0) begin
            if (rst_hi != rst_w_exp) begin
                $display("ERROR reset pulse %0d cycles, expected %0d", rst_hi, rst_w_exp); errors = errors + 1;
            end
            rst_hi = 0;
        end
    end
    integer rst_w_exp = 16;
    integer t_s = 0, ro_len = -1;
    always @(posedge clk) if (ana_sample) t_s = cyc;
    always @(negedge dut.ro_busy) ro_len = cyc - t_s;
    always @(posedge ana_rst) if (!ana_rst_all) begin
        n_chrst = n_chrst + 1;
        if (ana_rst_mask !== latched[ana_rst_ch] || latched[ana_rst_ch] == 256'd0) begin
            $display("ERROR reset mask of ch %0d", ana_rst_ch); errors = errors + 1;
        end
    end

    // ------------------------------------------------------------ programming monitor
    integer prog_hi = 0, n_rst_p = 0, n_set_p = 0, bad_w = 0, set_w = 4, prst_w = 32;
    always @(posedge clk) begin
        if (ana_prog) prog_hi = prog_hi + 1;
        else if (prog_hi != 0) begin
            if (ana_prog_dir) begin n_rst_p = n_rst_p + 1; if (prog_hi != prst_w) bad_w = bad_w + 1; end
            else begin n_set_p = n_set_p + 1; if (prog_hi != set_w) bad_w = bad_w + 1; end
            prog_hi = 0;
        end
    end

    // ------------------------------------------------------------ APB
    reg [31:0] rd; reg err;
    task apb(input wr, input [11:0] a, input [31:0] wdat);
        begin
            @(posedge clk); #1 psel = 1; penable = 0; pwrite = wr; paddr = a; pwdata = wdat;
            @(posedge clk); #1 penable = 1;
            @(posedge clk); rd = prdata; err = pslverr;
            #1 psel = 0; penable = 0; pwrite = 0;
        end
    endtask
    task expect_rd(input [11:0] a, input [31:0] v);
        begin
            apb(0, a, 0);
            if (rd !== v || err) begin
                $display("ERROR read %h = %h (err %b), expected %h", a, rd, err, v); errors = errors + 1;
            end
        end
    endtask
    task expect_err(input wr, input [11:0] a, input [31:0] v, input e);
        begin
            apb(wr, a, v);
            if (err !== e) begin $display("ERROR access %h wr=%b pslverr=%b expected %b", a, wr, err, e); errors = errors + 1; end
        end
    endtask

    integer t0, t1, k, base = 0;
    // +trace=FILE: every AER event, reset and programming pulse in order (no times)
    integer tf = 0;
    reg [1023:0] tfname;
    always @(posedge aer_req) if (tf != 0) $fwrite(tf, "aer %h\n", aer_addr);
    always @(posedge ana_rst) if (tf != 0) $fwrite(tf, "rst %b %h %h\n", ana_rst_all, ana_rst_ch, ana_rst_mask);
    always @(posedge ana_prog) if (tf != 0) $fwrite(tf, "prog %h %h %b\n", ana_prog_target, ana_prog_index, ana_prog_dir);
    initial begin
        if ($value$plusargs("seed=%d", seed)) ;
        if ($value$plusargs("maxdly=%d", maxdly)) ;
        if ($value$plusargs("fixdly=%d", fixdly)) ;
        if ($value$plusargs("windows=%d", nwin)) ;
        if ($value$plusargs("density=%d", density)) ;
        if ($value$plusargs("longdly=%d", longdly)) ;
        if ($value$plusargs("longpct=%d", longpct)) ;
        if ($test$plusargs("jitter")) jitter = 1;
        if ($test$plusargs("freeclk")) freeclk = 1;
        if ($value$plusargs("trace=%s", tfname)) tf = $fopen(tfname, "w");
        if ($test$plusargs("waves")) begin $dumpfile("tb_smoke.vcd"); $dumpvars(0, tb_smoke); end
        for (c = 0; c < 32; c = c + 1) latched[c] = 0;
        #7 rst_n = 0;
        repeat (3) @(posedge clk);
        #3 rst_n = 1; t0 = cyc;
        // power-up global reset: 2 edges of the reset synchronizer, then setup at the 3rd
        repeat (3) @(posedge clk); #1 if (phase != 5 || !ana_rst_all) begin $display("ERROR no power-up GRST"); errors = errors + 1; end
        while (dut.grst_busy) @(posedge clk); t1 = cyc;
        $display("power-up global reset over %0d edges after release", t1 - t0);
        if (t1 - t0 != 21) begin $display("ERROR power-up global reset not over at the 21st edge"); errors = errors + 1; end
        // reset values, ID, access rules
        expect_rd(12'h000, 32'h50324D02);
        expect_rd(12'h008, 32'h0);
        expect_rd(12'h00C, 1); expect_rd(12'h010, 10000); expect_rd(12'h014, 16);
        expect_rd(12'h018, 4); expect_rd(12'h01C, 32); expect_rd(12'h020, 2);
        expect_err(1, 12'h000, 1, 1);
        expect_err(0, 12'h048, 0, 1);
        expect_err(1, 12'hFFC, 0, 1);
        expect_err(1, 12'h030, 0, 1);
        expect_err(1, 12'h014, 0, 0); expect_rd(12'h014, 1);     // >= 1
        apb(1, 12'h014, 16);
        expect_err(1, 12'h040, 32'hFFFF_FFFF, 0); expect_rd(12'h040, 32'h1FFF);
        // programming: code 5 on weight 300, then a busy refusal
        apb(1, 12'h024, 300); apb(1, 12'h028, 5); apb(1, 12'h044, 1);
        apb(1, 12'h02C, 1); t0 = cyc;
        expect_err(1, 12'h028, 3, 1);
        expect_err(1, 12'h02C, 1, 1);
        apb(0, 12'h008, 0); if (rd[1] !== 1 || rd[10:8] !== 6) begin $display("ERROR STATUS %h while programming", rd); errors = errors + 1; end
        while (dut.prog_busy) begin @(posedge clk); #1; end
        // busy = 2 + RST_W + max(GAP,2) + (code-1)*GAP + code*SET_W = 2+32+2+4*2+5*4 = 64
        if (cyc - t0 != 64) begin $display("ERROR PROG_BUSY lasted %0d cycles, expected 64", cyc - t0); errors = errors + 1; end
        if (!irq) begin $display("ERROR no irq after PROG_DONE"); errors = errors + 1; end
        apb(1, 12'h008, 4); #1 if (irq) begin $display("ERROR irq after W1C"); errors = errors + 1; end
        if (n_rst_p != 1 || n_set_p != 5 || bad_w != 0) begin
            $display("ERROR prog pulses: %0d reset, %0d set, %0d bad widths", n_rst_p, n_set_p, bad_w); errors = errors + 1;
        end
        // windows: 1 tick = 1 clk_slow cycle (1 us), 30 us windows so that some readouts overrun
        apb(1, 12'h00C, 1); apb(1, 12'h010, 30);
        apb(1, 12'h004, 1); t0 = cyc;
        for (w = 0; w < nwin; w = w + 1) begin
            wait_window;
            if (w == 0) begin
                $display("first ana_sample at %0t ps, %0d clk_slow edges after the EN write", $time, nslow);
                expect_err(1, 12'h004, 32'h3, 1);       // GRST refused while the readout runs
                expect_rd(12'h004, 32'h1);              // ... and the write had no effect
                apb(0, 12'h008, 0);
                if (rd[0] !== 1'b1 || (rd[10:8] != 3 && rd[10:8] != 4)) begin
                    $display("ERROR STATUS %h during readout", rd); errors = errors + 1;
                end
                apb(1, 12'h044, 2);                     // IRQ_EN.OVERRUN
            end
        end
        if ($test$plusargs("midreset")) begin
            // reset in the middle of a readout: wait for a few events of the next readout
            wait_window; repeat (200) @(posedge aer_req);
            @(posedge clk); #1 rst_n = 0; disable rx; #1 aer_ack = 0; base = exp_wr;
            repeat (2) @(posedge clk); #1 rst_n = 1;
            exp_rd = exp_wr;                // the interrupted readout's spikes are gone
            nrx = 0; t_first = 0;
            base = exp_wr;
            @(posedge clk); while (dut.grst_busy) @(posedge clk);
            if (dut.ro_busy || aer_req) begin $display("ERROR not idle after mid-readout reset"); errors = errors + 1; end
            apb(0, 12'h030, 0); if (rd != 0) begin $display("ERROR CNT_EVENTS %0d after reset", rd); errors = errors + 1; end
            // run two more windows after the reset
            apb(1, 12'h00C, 1); apb(1, 12'h010, 30); apb(1, 12'h044, 2); apb(1, 12'h004, 1);
            exp_rd = exp_wr;
            repeat (2) wait_window;
            $display("mid-readout reset: recovered, running again");
        end
        apb(1, 12'h004, 0);
        while (dut.ro_busy || aer_req || aer_ack) @(posedge clk);
        expect_err(1, 12'h004, 2, 0);   // GRST accepted when idle
        @(posedge clk); while (dut.grst_busy) @(posedge clk);
        apb(0, 12'h030, 0); k = rd;
        apb(0, 12'h034, 0);
        $display("windows %0d, spikes expected %0d received %0d, CNT_EVENTS %0d, resets %0d",
                 rd, exp_wr, nrx, k, n_chrst);
        if (nrx != exp_wr - base || k != nrx || exp_rd != exp_wr) begin $display("ERROR spike count"); errors = errors + 1; end
        apb(0, 12'h03C, 0); $display("CNT_OVERRUN %0d", rd);
        if ((rd != 0) !== irq) begin $display("ERROR irq %b with CNT_OVERRUN %0d", irq, rd); errors = errors + 1; end
        apb(0, 12'h008, 0); if (rd[4] !== irq) begin $display("ERROR STATUS.OVERRUN"); errors = errors + 1; end
        apb(1, 12'h008, 32'h10); #1 if (irq) begin $display("ERROR irq after W1C OVERRUN"); errors = errors + 1; end
        if (nrx > 1) $display("AER: %0d events, %.2f cycles/event incl. readout overheads (maxdly %0d)",
                              nrx, 1.0 * (t_last - t_first) / (nrx - 1), maxdly);
        $display("last readout: %0d cycles from the strobe to idle", ro_len);
        $display("clock on request: %0d clk edges, %0d clk starts, %0d clk_slow edges",
                 cyc, u_src.starts, nslow);
        if (errors == 0) $display("PASS"); else $display("FAIL %0d errors", errors);
        $finish;
    end
endmodule
