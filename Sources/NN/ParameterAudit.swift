// Auditing a module: is every trainable tensor it holds listed in `namedParameters`?
//
// A module lists its parameters by hand (`namedParameters`), and that list is all the optimizer
// updates, all `zeroGrad` clears and all a checkpoint saves. A layer added to a block but left out
// of the list still computes — it takes part in the forward pass, so nothing crashes — yet it never
// trains and is never saved: the model quietly stays at its random initial weights there, and a
// reloaded model differs from the one that was trained. `unlistedTrainableTensors` finds such
// tensors by walking what the module actually stores, with Swift's reflection (`Mirror`).

import Tensor

/// The paths of every tensor stored inside `module` that requires a gradient but is missing from
/// `module.parameters`, so the optimizer would never update it and a checkpoint would not save it.
/// Empty for a correct module.
///
/// The walk follows stored properties recursively, with `Mirror`: through nested modules and
/// structs, optionals (`Linear?`), arrays and dictionaries, and existentials (`any Layer`), each
/// reflected as the concrete value it holds. A path names the stored properties from the module
/// down, e.g. `"blocks[1].attention.query.bias"` or `"gate"`; an optional adds nothing to it. A tensor
/// stored twice is reported once, under the first path found; a tensor that does not require a
/// gradient (a fixed buffer, say) is not a parameter and is not reported.
///
/// Cost: one visit per stored value; arrays of plain numbers are skipped without visiting their
/// elements. Meant for tests (run it on every model the course trains), not for a training loop.
public func unlistedTrainableTensors(of module: Module) -> [String] {
    let listed = Set(module.parameters.map(ObjectIdentifier.init))
    var unlisted: [String] = []
    var visited = Set<ObjectIdentifier>()  // tensors and other class instances: each once (and no cycles)

    func walk(_ value: Any, _ path: String) {
        if let tensor = value as? Tensor {
            guard visited.insert(ObjectIdentifier(tensor)).inserted else { return }
            if tensor.requiresGrad && !listed.contains(ObjectIdentifier(tensor)) { unlisted.append(path) }
            return  // a tensor's own grad and graph are not the module's storage
        }
        if value is [Float] || value is [Double] || value is [Int] || value is [UInt8] || value is String { return }
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .class {
            guard visited.insert(ObjectIdentifier(value as AnyObject)).inserted else { return }
        }
        func member(_ label: String) -> String { path.isEmpty ? label : path + "." + label }
        switch mirror.displayStyle {
        case .optional:
            if let wrapped = mirror.children.first { walk(wrapped.value, path) }
        case .collection, .set:
            for (i, child) in mirror.children.enumerated() { walk(child.value, path + "[\(i)]") }
        case .dictionary:  // children are (key, value) pairs
            for child in mirror.children {
                let pair = Array(Mirror(reflecting: child.value).children)
                guard pair.count == 2 else { continue }
                walk(pair[1].value, path + "[\(pair[0].value)]")
            }
        default:  // struct, class, tuple, enum payload
            var current: Mirror? = mirror
            while let m = current {  // a class's superclass properties too
                for (i, child) in m.children.enumerated() { walk(child.value, member(child.label ?? String(i))) }
                current = m.superclassMirror
            }
        }
    }
    walk(module, "")
    return unlisted
}
