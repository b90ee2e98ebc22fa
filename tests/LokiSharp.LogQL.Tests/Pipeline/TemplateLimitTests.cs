using System.Text;
using LokiSharp.LogQL.Templates;

namespace LokiSharp.LogQL.Tests.Pipeline;

/// <summary>
/// What a template may allocate: Go fmt's width and precision limits, and the output limit (1 Mi characters for
/// short lines) on every value and on the output, at and just past each boundary.
/// </summary>
public sealed class TemplateLimitTests
{
    private const int Limit = TemplateLimits.MinOutputLimit;
    private const string TooLarge = "output too large: the template output limit is 1048576 characters";

    private sealed class MapData(Dictionary<string, string> map) : ITemplateData
    {
        public string? Get(string name) => map.TryGetValue(name, out var v) ? v : null;

        public IEnumerable<KeyValuePair<string, string>> Pairs => map;
    }

    private static string Execute(string template, int? limit = null)
    {
        var t = GoTemplate.Parse("line", template);
        var sb = new StringBuilder();
        var context = new TemplateContext();
        if (limit is { } l)
        {
            context.OutputLimit = l;
        }

        context.SetLine(static () => "the line");
        t.Execute(sb, new MapData(new() { ["x"] = "abc", ["n"] = "42" }), context);
        return sb.ToString();
    }

    private static string Fails(string template, int? limit = null) =>
        Assert.Throws<TemplateExecutionException>(() => Execute(template, limit)).Message;

    [Theory]
    // Go's parsenum stops once the number passes a million: a literal width or precision of eight digits is
    // dropped with the rest of the format (no verb), so the operand is extra.
    [InlineData("{{ printf \"%100000000s\" .x }}", "%!(NOVERB)%!(EXTRA string=abc)")]
    [InlineData("{{ printf \"%99999999d|\" 7 }}", "%!(NOVERB)%!(EXTRA int=7)")]
    [InlineData("{{ printf \"%.100000000f\" 1.5 }}", "%!(NOVERB)%!(EXTRA float64=1.5)")]
    // A width or precision from an operand may be at most a million in magnitude.
    [InlineData("{{ printf \"%*s|\" 1000001 .x }}", "%!(BADWIDTH)abc|")]
    [InlineData("{{ printf \"%*s|\" -1000001 .x }}", "%!(BADWIDTH)abc|")]
    [InlineData("{{ printf \"%*s|\" \"wide\" .x }}", "%!(BADWIDTH)abc|")]
    [InlineData("{{ printf \"%.*f|\" 1000001 1.5 }}", "%!(BADPREC)1.500000|")]
    [InlineData("{{ printf \"%.*s|\" -1 .x }}", "%!(BADPREC)abc|")]
    // A negative operand width pads on the right.
    [InlineData("{{ printf \"%*s|\" -5 .x }}", "abc  |")]
    [InlineData("{{ printf \"%*s|%-*d|\" 5 .x 4 7 }}", "  abc|7   |")]
    [InlineData("{{ printf \"%.*s|\" 2 .x }}", "ab|")]
    [InlineData("{{ printf \"%-05d|%05d\" 7 -7 }}", "7    |-0007")]
    public void Printf_follows_Go_fmt_for_widths_and_precisions(string template, string expected) =>
        Assert.Equal(expected, Execute(template));

    [Fact]
    public void Printf_pads_up_to_the_limit_and_fails_past_it()
    {
        Assert.Equal(1_000_000, Execute("{{ printf \"%1000000s\" .x }}").Length);
        Assert.Equal(1_000_000, Execute("{{ printf \"%*s\" 1000000 .x }}").Length);
        Assert.Equal(Limit, Execute("{{ printf \"%1048576s\" .x }}").Length);

        // Go accepts a width of ten million (seven digits, then one more); the output limit does not.
        Assert.EndsWith("error calling printf: " + TooLarge, Fails("{{ printf \"%10000000s\" .x }}"), StringComparison.Ordinal);
        Assert.EndsWith("error calling printf: " + TooLarge, Fails("{{ printf \"%1048577s\" .x }}"), StringComparison.Ordinal);
        Assert.EndsWith("error calling printf: " + TooLarge, Fails("{{ printf \"%-1048577s\" .x }}"), StringComparison.Ordinal);
        Assert.EndsWith("error calling printf: " + TooLarge, Fails("{{ printf \"%01048577d\" 5 }}"), StringComparison.Ordinal);
    }

    [Fact]
    public void Printf_float_precision_is_checked_before_formatting()
    {
        Assert.Equal(1_000_002, Execute("{{ printf \"%.1000000f\" 1.5 }}").Length);
        Assert.EndsWith("error calling printf: " + TooLarge, Fails("{{ printf \"%.2000000f\" 1.5 }}"), StringComparison.Ordinal);
        Assert.EndsWith("error calling printf: " + TooLarge, Fails("{{ printf \"%.2000000e\" 1.5 }}"), StringComparison.Ordinal);
    }

    [Fact]
    public void Printf_with_many_large_operands_fails_past_the_limit()
    {
        Assert.Equal(Limit, Execute("{{ $a := repeat 524288 \"x\" }}{{ printf \"%s%s\" $a $a }}").Length);
        Assert.EndsWith("error calling printf: " + TooLarge, Fails("{{ $a := repeat 524288 \"x\" }}{{ printf \"%s%s!\" $a $a }}"), StringComparison.Ordinal);
        Assert.EndsWith("error calling printf: " + TooLarge, Fails("{{ $a := repeat 524288 \"x\" }}{{ printf \"%s\" $a $a $a }}"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("repeat {0} \"x\"", 0)]
    [InlineData("alignLeft {0} \"x\"", 0)]
    [InlineData("alignRight {0} \"x\"", 0)]
    [InlineData("indent {0} \"\"", 0)]
    [InlineData("nindent {0} \"\"", 1)]
    public void Count_controlled_functions_reach_the_limit_and_fail_past_it(string call, int extra)
    {
        var atLimit = string.Format(System.Globalization.CultureInfo.InvariantCulture, "{{{{ " + call + " }}}}", Limit - extra);
        var pastLimit = string.Format(System.Globalization.CultureInfo.InvariantCulture, "{{{{ " + call + " }}}}", Limit - extra + 1);
        var name = call[..call.IndexOf(' ', StringComparison.Ordinal)];

        Assert.Equal(Limit, Execute(atLimit).Length);
        Assert.EndsWith("error calling " + name + ": " + TooLarge, Fails(pastLimit), StringComparison.Ordinal);
        Assert.EndsWith("error calling " + name + ": " + TooLarge,
            Fails(pastLimit.Replace((Limit - extra + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), "9223372036854775807", StringComparison.Ordinal)),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Indent_counts_every_line()
    {
        Assert.Equal(Limit, Execute("{{ indent 524286 \"a\\nbc\" }}").Length);
        Assert.EndsWith("error calling indent: " + TooLarge, Fails("{{ indent 524287 \"a\\nbc\" }}"), StringComparison.Ordinal);
        Assert.EndsWith("error calling indent: strings: negative Repeat count", Fails("{{ indent -1 \"a\" }}"), StringComparison.Ordinal);
    }

    [Fact]
    public void Repeat_keeps_Gos_errors_and_its_cheap_cases()
    {
        Assert.EndsWith("error calling repeat: strings: negative Repeat count", Fails("{{ repeat -1 \"x\" }}"), StringComparison.Ordinal);
        Assert.Equal(string.Empty, Execute("{{ repeat 9223372036854775807 \"\" }}"));
        Assert.Equal(Limit, Execute("{{ repeat 262144 \"abcd\" }}").Length);
        Assert.EndsWith("error calling repeat: " + TooLarge, Fails("{{ repeat 262145 \"abcd\" }}"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{ replace \"a\" (repeat {0} \"x\") \"aaaa\" }}", "replace")]
    [InlineData("{{ Replace \"aaaa\" \"a\" (repeat {0} \"x\") -1 }}", "Replace")]
    [InlineData("{{ regexReplaceAll \"a\" \"aaaa\" (repeat {0} \"x\") }}", "regexReplaceAll")]
    [InlineData("{{ regexReplaceAllLiteral \"a\" \"aaaa\" (repeat {0} \"x\") }}", "regexReplaceAllLiteral")]
    [InlineData("{{ regexReplaceAll \"(a+)\" \"aaaa\" (printf \"%s%s%s\" \"${1}\" \"$1\" (repeat {0} \"$1\")) }}", "regexReplaceAll")]
    public void Replacements_are_counted_before_they_multiply_the_text(string template, string name)
    {
        // Four replacements of 262144 characters make the limit; one more character each passes it. The
        // four-character group of the last case is written once per reference: 262142 + 2 references make it.
        var count = template.Contains("${1}", StringComparison.Ordinal) ? 262142 : 262144;
        var atLimit = template.Replace("{0}", count.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        var pastLimit = template.Replace("{0}", (count + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

        Assert.Equal(Limit, Execute(atLimit).Length);
        Assert.EndsWith("error calling " + name + ": " + TooLarge, Fails(pastLimit), StringComparison.Ordinal);
    }

    [Fact]
    public void Replace_with_an_empty_old_value_counts_an_insertion_per_rune_and_one_at_the_end()
    {
        Assert.Equal(1_048_575, Execute("{{ Replace \"aaa\" \"\" (repeat 262143 \"x\") -1 }}").Length);
        Assert.EndsWith("error calling Replace: " + TooLarge, Fails("{{ Replace \"aaa\" \"\" (repeat 262144 \"x\") -1 }}"), StringComparison.Ordinal);
        Assert.Equal(786_435, Execute("{{ Replace \"aaa\" \"\" (repeat 262144 \"x\") 3 }}").Length);
    }

    [Theory]
    [InlineData("{{ print $a $a \"!\" }}", "print")]
    [InlineData("{{ println $a $a }}", "println")]
    [InlineData("{{ html $a $a \"!\" }}", "html")]
    [InlineData("{{ urlquery $a $a \"!\" }}", "urlquery")]
    [InlineData("{{ js $a $a \"!\" }}", "js")]
    public void Concatenating_functions_fail_past_the_limit(string call, string name) =>
        Assert.EndsWith("error calling " + name + ": " + TooLarge, Fails("{{ $a := repeat 524288 \"x\" }}" + call), StringComparison.Ordinal);

    [Fact]
    public void Escaping_functions_fail_when_the_escapes_pass_the_limit() =>
        Assert.EndsWith("error calling html: " + TooLarge, Fails("{{ html (repeat 300000 \"<\") }}"), StringComparison.Ordinal);

    [Fact]
    public void The_output_is_limited_even_when_no_single_value_is()
    {
        Assert.Equal(Limit, Execute("{{ $a := repeat 524288 \"x\" }}{{ $a }}{{ $a }}").Length);
        var e = Fails("{{ $a := repeat 524288 \"x\" }}{{ $a }}{{ $a }}{{ $a }}");
        Assert.StartsWith("template: line:1:", e, StringComparison.Ordinal);
        Assert.EndsWith(": executing \"line\" at <$a>: " + TooLarge, e, StringComparison.Ordinal);
        Assert.EndsWith(": " + TooLarge, Fails("{{ $a := repeat 524288 \"x\" }}{{ $a }}{{ $a }}!"), StringComparison.Ordinal);
    }

    [Fact]
    public void Values_piled_up_in_variables_are_bounded_by_the_execution_budget()
    {
        var eight = string.Concat(Enumerable.Range(0, 8).Select(static i => "{{ $v" + i + " := repeat 1048576 \"x\" }}"));
        Assert.Equal(string.Empty, Execute(eight));
        Assert.Contains("template execution budget exceeded", Fails(eight + "{{ $v8 := repeat 2 \"x\" }}"), StringComparison.Ordinal);
    }

    [Fact]
    public void Values_handed_back_unchanged_cost_nothing()
    {
        // __line__ is decoded once per line, and default hands back its argument: neither allocates per call.
        var sb = new StringBuilder();
        var context = new TemplateContext { OutputLimit = 1024 };
        var line = new string('l', 1000);
        context.SetLine(() => line);
        GoTemplate.Parse("line", "{{ range 100 }}{{ if contains \"x\" __line__ }}{{ end }}{{ default \"d\" __line__ | len }}{{ end }}")
            .Execute(sb, new MapData([]), context);

        Assert.Equal(string.Concat(Enumerable.Repeat("1000", 100)), sb.ToString());
    }

    [Fact]
    public void Range_over_a_huge_count_is_neither_materialised_nor_endless()
    {
        Assert.Equal("012", Execute("{{ range 3 }}{{ . }}{{ end }}"));
        Assert.Equal("none", Execute("{{ range -3 }}{{ . }}{{ else }}none{{ end }}"));
        Assert.Equal("01", Execute("{{ range $i := 1000000000000 }}{{ if eq $i 2 }}{{ break }}{{ end }}{{ $i }}{{ end }}"));
        Assert.Contains("template execution budget exceeded", Fails("{{ range 1000000000000 }}{{ end }}", limit: 1024), StringComparison.Ordinal);
    }

    [Fact]
    public void The_limit_grows_with_the_line_but_never_below_the_minimum()
    {
        Assert.Equal(Limit, TemplateLimits.OutputLimit(0));
        Assert.Equal(Limit, TemplateLimits.OutputLimit(Limit - 1));
        Assert.Equal(3 * Limit, TemplateLimits.OutputLimit(3 * Limit));
        Assert.Equal(2 * Limit, Execute("{{ repeat 2097152 \"x\" }}", limit: 2 * Limit).Length);
        Assert.EndsWith("error calling repeat: output too large: the template output limit is 1024 characters",
            Fails("{{ repeat 1025 \"x\" }}", limit: 1024), StringComparison.Ordinal);
    }

    [Fact]
    public void Line_format_marks_the_line_and_keeps_it_when_the_output_would_pass_the_limit()
    {
        var outcome = PipelineRunner.Run("{app=\"web\"} | line_format \"{{ printf \\\"%10000000s\\\" .app }}\"", "original");

        Assert.True(outcome.Kept);
        Assert.Equal("original", outcome.Line);
        Assert.Equal("TemplateFormatErr", outcome.Label("__error__"));
        Assert.EndsWith("error calling printf: " + TooLarge, outcome.Label("__error_details__"), StringComparison.Ordinal);
    }

    [Fact]
    public void Line_format_writes_Gos_marks_for_a_width_fmt_refuses() =>
        Assert.Equal("%!(NOVERB)%!(EXTRA string=web)",
            PipelineRunner.Run("{app=\"web\"} | line_format \"{{ printf \\\"%100000000s\\\" .app }}\"", "original").Line);

    [Fact]
    public void Label_format_marks_the_line_and_sets_no_label_past_the_limit()
    {
        var outcome = PipelineRunner.Run("{app=\"web\"} | label_format big=\"{{ repeat 1048577 \\\"x\\\" }}\", ok=\"{{ .app }}\"", "line");

        Assert.Equal("TemplateFormatErr", outcome.Label("__error__"));
        Assert.EndsWith("error calling repeat: " + TooLarge, outcome.Label("__error_details__"), StringComparison.Ordinal);
        Assert.Null(outcome.Label("big"));
        Assert.Equal("web", outcome.Label("ok"));
    }

    [Theory]
    [InlineData("{{.big}}", true)]
    [InlineData("{{.big}}{{.big}}", false)]
    [InlineData("{{.big}} and {{.big}}", false)]
    public void Line_format_of_fields_alone_is_limited_too(string template, bool fits)
    {
        var big = new string('x', 600_000);

        var outcome = PipelineRunner.Run("{app=\"web\"} | line_format \"" + template + "\"", "line", PipelineRunner.DefaultStream, ("big", big));

        Assert.Equal(fits ? null : "TemplateFormatErr", outcome.Label("__error__"));
        Assert.Equal(fits ? big : "line", outcome.Line);
        if (!fits)
        {
            Assert.EndsWith("executing \"line\" at <.big>: " + TooLarge, outcome.Label("__error_details__"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_line_longer_than_the_minimum_limit_can_be_echoed_but_not_doubled()
    {
        var line = new string('y', 1_500_000);

        var echoed = PipelineRunner.Run("{app=\"web\"} | line_format \"{{ __line__ }}\"", line);
        var doubled = PipelineRunner.Run("{app=\"web\"} | line_format \"{{ __line__ }}{{ __line__ }}\"", line);

        Assert.Equal(line, echoed.Line);
        Assert.Null(echoed.Label("__error__"));
        Assert.Equal("TemplateFormatErr", doubled.Label("__error__"));
        Assert.EndsWith("output too large: the template output limit is 1500000 characters", doubled.Label("__error_details__"), StringComparison.Ordinal);
    }
}
