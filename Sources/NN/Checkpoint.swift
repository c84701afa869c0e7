// Saving and loading a module's parameters as a safetensors file (see SafeTensors.swift).

import Tensor

extension Module {
    /// Writes every parameter under its dotted name. Atomic: a temporary file renamed into place.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        let arrays = namedParameters.map { NamedArray(name: $0.name, shape: $0.tensor.shape, values: $0.tensor.data) }
        try SafeTensors.write(arrays, metadata: metadata, to: path)
    }

    /// Reads a checkpoint written for this architecture into the parameters. Throws, naming the
    /// file and the tensor, if anything is missing, extra or shaped differently, or if a weight is
    /// NaN or ±infinity (`.nonFiniteValue`: such a model computes NaN everywhere, so it is refused
    /// rather than sampled from); then nothing is changed. Returns the file's metadata.
    @discardableResult
    public func load(from path: String) throws -> [String: String] {
        let (arrays, metadata) = try SafeTensors.read(from: path)
        let params = namedParameters
        let values = try SafeTensors.matchShapes(arrays, expected: params.map { ($0.name, $0.tensor.shape) }, file: path)
        for (name, _) in params {
            let v = values[name]!
            guard let first = v.firstIndex(where: { !$0.isFinite }) else { continue }
            let bad = v.lazy.filter { !$0.isFinite }.count
            throw CheckpointError(.nonFiniteValue, file: path,
                "tensor \"\(name)\" holds \(v[first]) at element \(first) (\(bad) of its \(v.count) values are NaN or infinite): "
                + "refusing weights that would make every output NaN (was it saved from a run that diverged?)")
        }
        for (name, tensor) in params { tensor.data = values[name]! }
        return metadata
    }
}
