import ArgumentParser
import Foundation
import SecAggSimulation
import SecureAggregation
import Testing

@testable import SecAggTool

/// `secagg plan` and `secagg simulate` given the same flags choose the same graph and threshold (issue 12):
/// both take the complete graph by default, t = ⌈2(n−1)/3⌉ without --corrupt/--dropout-bound, the finder's
/// threshold with them (δ given explicitly here: simulate otherwise plans for its own dropout schedule).
@Test(arguments: [
    ["--clients", "100", "--graph", "complete"],
    ["--clients", "30"],
    ["--clients", "30", "--model", "active"],
    ["--clients", "30", "--corrupt", "0.1", "--dropout-bound", "0.2"],
    ["--clients", "30", "--model", "active", "--corrupt", "0.1", "--dropout-bound", "0.1"],
    ["--clients", "30", "--graph", "harary", "--corrupt", "0.1", "--dropout-bound", "0.15"],
    ["--clients", "30", "--threshold", "12"],
])
func planAndSimulatePrintTheSameThreshold(_ flags: [String]) throws {
    let plan = try Planner.plan(try PlanCommand.parse(flags).makeOptions())
    let simulate = try SimulateCommand.parse(flags + ["--length", "8", "--seed", "4"]).makeOptions()
    let report = try Simulator.run(simulate)
    #expect(report.verified, "\(report.summary)")
    #expect(report.threshold == plan.graph.t)
    #expect(report.graph == plan.graph.k)
    #expect(report.graphKind == plan.graph.kind)
    #expect(report.thresholdRule == plan.graph.thresholdRule)
    #expect(plan.description.contains("k = \(plan.graph.k), t = \(plan.graph.t) ("))
    #expect(report.summary.contains("threshold \(plan.graph.t), graph \(plan.graph.kind)"))
}

@Test func theIssuesExampleAgrees() throws {
    // `secagg plan --clients 100 --graph complete` used to say t = 94 while `simulate` used 66.
    let plan = try Planner.plan(try PlanCommand.parse(["--clients", "100", "--graph", "complete"]).makeOptions())
    #expect(plan.graph.t == 66)
    #expect(plan.graph.thresholdRule == "two-thirds")
    #expect(plan.graph.meetsBounds)
    // With no flags at all, too: both default to the complete graph.
    let defaults = try Planner.plan(try PlanCommand.parse([]).makeOptions())
    #expect(defaults.graph.kind == "complete" && defaults.graph.t == 66)
    // A threat model switches both to the finder's threshold, n − 1 − ⌊δn⌋ on the complete graph.
    let threat = try Planner.plan(try PlanCommand.parse(["--clients", "100", "--corrupt", "0.05"]).makeOptions())
    #expect(threat.graph.t == 94 && threat.graph.thresholdRule == "finder")
}
