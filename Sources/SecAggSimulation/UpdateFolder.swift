public import Foundation
public import SecAggQuantization

/// The model updates of `secagg simulate --inputs DIR`: one `.npy` or `.safetensors` file per client, sorted
/// by file name (client 1 is the first), all with the same tensors (names, shapes, dtypes), and an optional
/// `weights.json`.
///
/// `weights.json` is one JSON object mapping every update file name (with its extension, no directory) to
/// an integer weight in 0...2^53, e.g. `{"client-01.safetensors": 120, "client-02.safetensors": 80}` (FedAvg
/// sample counts). With it the decoded mean is Σ wᵢxᵢ / Σ wᵢ over the included clients; a file without a
/// weight, or a weight for a name that is not an update file, is an error.
///
/// A `.npy` file holds one array; it is called ``npyTensorName`` whatever the file is named, so that the
/// clients' layouts agree. Files with other extensions (and hidden files) are ignored; mixing `.npy` and
/// `.safetensors` files is an error.
public struct UpdateFolder: Sendable {
    /// The optional weights file inside the folder.
    public static let weightsFileName = "weights.json"
    /// The tensor name given to the array of a `.npy` update.
    public static let npyTensorName = "update"

    /// The update file format.
    public enum Format: String, Sendable, Hashable {
        /// NumPy `.npy`: one array.
        case npy
        /// `.safetensors`: named tensors.
        case safeTensors = "safetensors"
    }

    /// The folder.
    public let directory: URL
    /// The update files, sorted by name: client u reads `files[u − 1]`.
    public let files: [URL]
    /// Their format.
    public let format: Format
    /// The tensors of the first file, in file order; every other file must match it.
    public let layout: TensorLayout
    /// Per client (aligned with `files`), from weights.json; nil without that file.
    public let weights: [Int]?
    /// The largest |value| over every file (0 when all values are zero): what `--clip auto` starts from.
    public let largestMagnitude: Double

    /// Lists the folder, reads weights.json and checks that every file parses, matches the first file's
    /// tensors and holds only finite values.
    public init(directory: URL) throws(SimulationError) {
        self.directory = directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw .file(path: directory.path, reason: "no such directory")
        }
        guard isDirectory.boolValue else { throw .file(path: directory.path, reason: "not a directory") }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw .file(path: directory.path, reason: "cannot list the directory")
        }
        let updates = names.filter { name in
            !name.hasPrefix(".") && (name.hasSuffix(".npy") || name.hasSuffix(".safetensors"))
        }.sorted()
        guard let first = updates.first else {
            throw .file(path: directory.path, reason: "no .npy or .safetensors update files")
        }
        let format: Format = first.hasSuffix(".npy") ? .npy : .safeTensors
        if let other = updates.first(where: { $0.hasSuffix(".npy") != (format == .npy) }) {
            throw .file(
                path: directory.path,
                reason: "mixes .npy and .safetensors updates (\(first), \(other)); use one format")
        }
        self.format = format
        self.files = updates.map { directory.appendingPathComponent($0) }
        let firstTensors = try Self.readTensors(files[0], format: format)
        do {
            layout = try TensorLayout(describing: firstTensors)
        } catch {
            throw .file(path: files[0].path, reason: error.description)
        }
        guard layout.elementCount >= 1 else {
            throw .file(path: files[0].path, reason: "the update holds no values")
        }
        let weightsURL = directory.appendingPathComponent(Self.weightsFileName)
        if FileManager.default.fileExists(atPath: weightsURL.path) {
            weights = try Self.readWeights(weightsURL, updateNames: updates)
        } else {
            weights = nil
        }
        // Reject a bad file before any protocol work rather than midway through a session.
        var largest = 0.0
        for file in files {
            for value in try Self.readValues(file, format: format, layout: layout) {
                largest = max(largest, abs(value))
            }
        }
        largestMagnitude = largest
    }

    /// The number of clients (update files).
    public var clientCount: Int { files.count }

    /// The largest weight (1 without weights.json).
    public var maximumWeight: Int { weights?.max() ?? 1 }

    /// The weight of the client reading `files[index]` (1 without weights.json).
    public func weight(ofClientAt index: Int) -> Int { weights?[index] ?? 1 }

    /// The tensors of `files[index]`.
    public func tensors(ofClientAt index: Int) throws(SimulationError) -> [NamedTensor] {
        guard files.indices.contains(index) else {
            throw .invalidArgument("client \(index + 1) outside 1...\(files.count)")
        }
        return try Self.readTensors(files[index], format: format)
    }

    /// The flat values of `files[index]` in layout order, checked against the layout and for NaN/infinity.
    public func values(ofClientAt index: Int) throws(SimulationError) -> [Double] {
        guard files.indices.contains(index) else {
            throw .invalidArgument("client \(index + 1) outside 1...\(files.count)")
        }
        return try Self.readValues(files[index], format: format, layout: layout)
    }

    /// The flat values of `url` in `layout` order, checked against the layout and for NaN/infinity.
    static func readValues(_ url: URL, format: Format, layout: TensorLayout) throws(SimulationError) -> [Double] {
        let tensors = try readTensors(url, format: format)
        let flat: [Double]
        do {
            flat = try layout.flatten(tensors)
        } catch {
            throw .file(path: url.path, reason: "\(error.description) (the first file defines the layout)")
        }
        if let bad = flat.firstIndex(where: { !$0.isFinite }) {
            throw .file(path: url.path, reason: "value \(bad) is NaN or infinite")
        }
        return flat
    }

    static func readTensors(_ url: URL, format: Format) throws(SimulationError) -> [NamedTensor] {
        do {
            switch format {
            case .npy:
                var tensor = try NpyFile.read(contentsOf: url)
                tensor.name = npyTensorName
                return [tensor]
            case .safeTensors:
                return try SafeTensorsFile.read(contentsOf: url).tensors
            }
        } catch {
            throw .file(path: url.path, reason: error.description)
        }
    }

    static func readWeights(_ url: URL, updateNames: [String]) throws(SimulationError) -> [Int] {
        let shape = "expected one JSON object {\"update file name\": integer weight, …}"
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .file(path: url.path, reason: "cannot read the file")
        }
        guard data.count <= 64 << 20 else { throw .file(path: url.path, reason: "larger than 64 MiB") }
        let table: [String: Double]
        do {
            table = try JSONDecoder().decode([String: Double].self, from: data)
        } catch {
            throw .file(path: url.path, reason: "malformed: \(shape)")
        }
        if let stray = table.keys.sorted().first(where: { !updateNames.contains($0) }) {
            throw .file(path: url.path, reason: "\"\(stray)\" is not an update file in the folder")
        }
        var weights: [Int] = []
        for name in updateNames {
            guard let value = table[name] else {
                throw .file(path: url.path, reason: "no weight for \"\(name)\"")
            }
            guard value >= 0, value <= Double(QuantizationPlan.weightLimit), value == value.rounded() else {
                throw .file(
                    path: url.path, reason: "weight \(value) of \"\(name)\" is not an integer in 0...2^53")
            }
            weights.append(Int(value))
        }
        guard weights.contains(where: { $0 > 0 }) else {
            throw .file(path: url.path, reason: "every weight is zero")
        }
        return weights
    }
}
