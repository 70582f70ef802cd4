public import CSecAgg
internal import Foundation
import SecAggCrypto
import SecAggQuantization

/// An immutable quantization plan behind a `secagg_plan` handle.
final class PlanHandle: HandleObject {
    let plan: QuantizationPlan

    init(_ plan: QuantizationPlan) {
        self.plan = plan
    }

    static func lookup(_ handle: OpaquePointer?) throws(CError) -> PlanHandle {
        try HandleTable.lookup(handle, as: PlanHandle.self, name: "plan")
    }
}

/// The largest safe plan for the parameters.
@_cdecl("secagg_plan_new")
public func secaggPlanNew(
    _ clientCount: UInt64, _ clipRange: Double, _ modulusKind: UInt32, _ modulusValue: UInt64,
    _ maximumWeight: UInt64, _ rounding: UInt32, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    capture { () throws(CError) in
        let out = try Arguments.required(out, "out")
        out.pointee = nil
        guard let clients = Int(exactly: clientCount) else { throw .argument("client count is too large") }
        guard let weight = Int(exactly: maximumWeight) else { throw .argument("maximum weight is too large") }
        let mode: QuantizationPlan.Rounding
        switch Int(rounding) {
        case SECAGG_ROUNDING_STOCHASTIC: mode = .stochastic
        case SECAGG_ROUNDING_NEAREST: mode = .nearest
        default: throw .argument("unknown rounding mode \(rounding)")
        }
        let modulus = try ringModulus(kind: modulusKind, value: modulusValue)
        let plan: QuantizationPlan
        do throws(QuantizationError) {
            plan = try QuantizationPlan.plan(
                clientCount: clients, clipRange: clipRange, modulus: modulus, maximumWeight: weight == 0 ? nil : weight,
                rounding: mode)
        } catch {
            throw CError(error)
        }
        out.pointee = HandleTable.insert(PlanHandle(plan))
    }
}

/// Decodes a plan from JSON.
@_cdecl("secagg_plan_decode")
public func secaggPlanDecode(
    _ bytes: UnsafePointer<UInt8>?, _ length: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?
)
    -> Int32
{
    capture { () throws(CError) in
        let out = try Arguments.required(out, "out")
        out.pointee = nil
        let data = Data(try Arguments.bytes(bytes, count: length, "bytes"))
        let plan: QuantizationPlan
        do {
            plan = try JSONDecoder().decode(QuantizationPlan.self, from: data)
        } catch let error as QuantizationError {
            throw CError(error)
        } catch {
            // A DecodingError describes the JSON's shape (keys, types, offsets), never its values.
            throw CError(
                status: Int32(SECAGG_QUANTIZATION_ERROR), kind: "invalidPlanEncoding",
                message: "not a plan encoding: \(String(describing: error).prefix(300))")
        }
        out.pointee = HandleTable.insert(PlanHandle(plan))
    }
}

/// The plan's JSON encoding.
@_cdecl("secagg_plan_encode")
public func secaggPlanEncode(_ plan: OpaquePointer?, _ out: UnsafeMutablePointer<secagg_buffer>?) -> Int32 {
    capture { () throws(CError) in
        let out = try Arguments.required(out, "out")
        out.pointee = secagg_buffer(data: nil, length: 0)
        let handle = try PlanHandle.lookup(plan)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(handle.plan)
        } catch {
            throw CError(status: Int32(SECAGG_INTERNAL_ERROR), kind: "internal", message: "cannot encode the plan")
        }
        try Buffers.store(Array(data), in: out)
    }
}

/// The plan's parameters and bounds.
@_cdecl("secagg_plan_get_info")
public func secaggPlanGetInfo(_ plan: OpaquePointer?, _ out: UnsafeMutablePointer<secagg_plan_info>?) -> Int32 {
    capture { () throws(CError) in
        let out = try Arguments.required(out, "out")
        let plan = try PlanHandle.lookup(plan).plan
        var info = secagg_plan_info()
        info.client_count = UInt64(plan.clientCount)
        info.clip_range = plan.clipRange
        switch plan.modulus {
        case .powerOfTwo(let bitWidth):
            (info.modulus_kind, info.modulus_value) = (UInt32(SECAGG_MODULUS_POWER_OF_TWO), UInt64(bitWidth))
        case .integer(let q):
            (info.modulus_kind, info.modulus_value) = (UInt32(SECAGG_MODULUS_INTEGER), q)
        }
        info.scale = plan.scale
        info.maximum_weight = UInt64(plan.maximumWeight ?? 0)
        info.rounding = UInt32(plan.rounding == .stochastic ? SECAGG_ROUNDING_STOCHASTIC : SECAGG_ROUNDING_NEAREST)
        info.worst_case_mean_error = plan.worstCaseMeanError
        info.element_bound = plan.elementBound
        out.pointee = info
    }
}

private func quantize<T>(
    _ plan: OpaquePointer?, _ values: UnsafePointer<T>?, _ count: Int, _ weight: UInt64,
    _ out: UnsafeMutablePointer<UInt64>?, _ outLength: Int, _ clipped: UnsafeMutablePointer<UInt64>?,
    _ body: (QuantizationPlan, [T], Int) throws(QuantizationError) -> QuantizedUpdate
) throws(CError) {
    let plan = try PlanHandle.lookup(plan).plan
    let input = try Arguments.array(values, count: count, "values")
    let expected = plan.vectorLength(valueCount: input.count)
    guard outLength == expected else {
        throw .argument("the output must hold \(expected) elements for \(input.count) values, not \(outLength)")
    }
    guard let weight = Int(exactly: weight) else {
        throw CError(QuantizationError.weightOutOfRange(weight: Int.max, maximum: plan.weightBound))
    }
    let update: QuantizedUpdate
    do throws(QuantizationError) {
        update = try body(plan, input, weight)
    } catch {
        throw CError(error)
    }
    if !update.elements.isEmpty {
        let out = try Arguments.required(out, "out")
        update.elements.withUnsafeBufferPointer { out.update(from: $0.baseAddress.unsafelyUnwrapped, count: $0.count) }
    }
    clipped?.pointee = UInt64(update.clippedCount)
}

/// Quantizes float32 values.
@_cdecl("secagg_plan_quantize_f32")
public func secaggPlanQuantizeF32(
    _ plan: OpaquePointer?, _ values: UnsafePointer<Float>?, _ count: Int, _ weight: UInt64,
    _ out: UnsafeMutablePointer<UInt64>?, _ outLength: Int, _ clipped: UnsafeMutablePointer<UInt64>?
) -> Int32 {
    capture { () throws(CError) in
        try quantize(plan, values, count, weight, out, outLength, clipped) {
            (plan, values, weight) throws(QuantizationError) in try plan.quantize(values, weight: weight)
        }
    }
}

/// Quantizes float64 values.
@_cdecl("secagg_plan_quantize_f64")
public func secaggPlanQuantizeF64(
    _ plan: OpaquePointer?, _ values: UnsafePointer<Double>?, _ count: Int, _ weight: UInt64,
    _ out: UnsafeMutablePointer<UInt64>?, _ outLength: Int, _ clipped: UnsafeMutablePointer<UInt64>?
) -> Int32 {
    capture { () throws(CError) in
        try quantize(plan, values, count, weight, out, outLength, clipped) {
            (plan, values, weight) throws(QuantizationError) in try plan.quantize(values, weight: weight)
        }
    }
}

/// Decodes the mean of an aggregate.
@_cdecl("secagg_plan_decode_mean")
public func secaggPlanDecodeMean(
    _ plan: OpaquePointer?, _ aggregate: UnsafePointer<UInt64>?, _ count: Int, _ includedClients: UInt64,
    _ out: UnsafeMutablePointer<Double>?, _ outLength: Int
) -> Int32 {
    capture { () throws(CError) in
        let plan = try PlanHandle.lookup(plan).plan
        let sum = try Arguments.array(aggregate, count: count, "aggregate")
        let included = Int(clamping: includedClients)
        let mean: [Double]
        do throws(QuantizationError) {
            mean = try plan.decodeMean(sum, includedClientCount: included)
        } catch {
            throw CError(error)
        }
        guard outLength == mean.count else {
            throw .argument("the output must hold \(mean.count) values, not \(outLength)")
        }
        guard !mean.isEmpty else { return }
        let out = try Arguments.required(out, "out")
        mean.withUnsafeBufferPointer { out.update(from: $0.baseAddress.unsafelyUnwrapped, count: $0.count) }
    }
}

/// The total weight of an aggregate.
@_cdecl("secagg_plan_decode_total_weight")
public func secaggPlanDecodeTotalWeight(
    _ plan: OpaquePointer?, _ aggregate: UnsafePointer<UInt64>?, _ count: Int, _ includedClients: UInt64,
    _ totalWeight: UnsafeMutablePointer<UInt64>?
) -> Int32 {
    capture { () throws(CError) in
        let totalWeight = try Arguments.required(totalWeight, "total_weight")
        let plan = try PlanHandle.lookup(plan).plan
        let sum = try Arguments.array(aggregate, count: count, "aggregate")
        do throws(QuantizationError) {
            totalWeight.pointee = UInt64(
                try plan.decodeTotalWeight(sum, includedClientCount: Int(clamping: includedClients)))
        } catch {
            throw CError(error)
        }
    }
}

/// Releases a plan.
@_cdecl("secagg_plan_free")
public func secaggPlanFree(_ plan: OpaquePointer?) {
    HandleTable.remove(plan, as: PlanHandle.self)
}
