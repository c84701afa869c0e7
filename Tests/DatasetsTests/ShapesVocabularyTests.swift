// The Shapes prompt language: its 14 words in their fixed order (the tokenizer's ids follow it),
// and the grammar that reads a prompt back into a `ShapePrompt`, against every caption the data
// set writes.

import Datasets
import Testing

@Suite("Shapes vocabulary and prompt grammar")
struct ShapesVocabularyTests {
    @Test("the 14 words, in the order the chapter 6 tokenizer numbers them (1…14 after <pad>)")
    func words() {
        #expect(ShapesVocabulary.words == ["red", "green", "blue", "yellow", "cyan", "magenta", "circle", "square", "triangle",
                                           "top", "bottom", "left", "right", "center"])
        #expect(ShapesVocabulary.maxWords == 4)
        #expect(ShapesVocabulary.words(in: "  Red,circle\tTOP  left ") == ["red", "circle", "top", "left"])
    }

    @Test("parse: every one of the 162 captions gives back its combination; partial prompts; contradictions are errors")
    func parse() throws {
        for c in ShapeCombination.all { #expect(try ShapePrompt.parse(c.caption) == ShapePrompt(c), "\(c.caption)") }
        #expect(try ShapePrompt.parse("left") == ShapePrompt(position: .left))
        #expect(try ShapePrompt.parse("top") == ShapePrompt(position: .top))
        #expect(try ShapePrompt.parse("bottom right blue") == ShapePrompt(color: .blue, position: .bottomRight))
        #expect(try ShapePrompt.parse("  Magenta   TRIANGLE ") == ShapePrompt(color: .magenta, kind: .triangle))
        #expect(try ShapePrompt.parse("") == ShapePrompt())
        for bad in ["top bottom", "red blue", "circle square", "center left", "left right", "red circle top left now"] {
            #expect(throws: PromptError.self, "\(bad)") { try ShapePrompt.parse(bad) }
        }
    }

    @Test("an unknown word is an error naming it and listing the vocabulary")
    func unknownWord() {
        do {
            _ = try ShapePrompt.parse("red hexagon")
            Issue.record("expected an error")
        } catch {
            let text = String(describing: error)
            #expect(text.contains("'hexagon'") && text.contains("red, green, blue") && text.contains("center"), "\(text)")
        }
        #expect(throws: PromptError.self) { try ShapePrompt.parse("<pad>") }
    }
}
