using System.Text;
using LokiSharp.LogQL.Templates;

namespace LokiSharp.LogQL.Tests.Pipeline;

public sealed class TemplateEngineTests
{
    private sealed class MapData(Dictionary<string, string> map) : ITemplateData
    {
        public string? Get(string name) => map.TryGetValue(name, out var v) ? v : null;

        public IEnumerable<KeyValuePair<string, string>> Pairs => map;
    }

    private static readonly Dictionary<string, string> Labels = new()
    {
        ["level"] = "info",
        ["msg"] = "Hello World",
        ["n"] = "42",
        ["f"] = "2.5",
        ["empty"] = string.Empty,
        ["json"] = "{\"a\":{\"b\":[1,\"two\"]},\"s\":\"x\"}",
        ["path"] = "/api/v1/users",
        ["size"] = "1.5KiB",
        ["dur"] = "1m30s",
        ["b64"] = "aGVsbG8",
    };

    private static string Execute(string template, long timestampNs = 0)
    {
        var t = GoTemplate.Parse("line", template);
        var sb = new StringBuilder();
        var context = new TemplateContext { TimestampNs = timestampNs };
        context.SetLine(static () => "the line");
        t.Execute(sb, new MapData(Labels), context);
        return sb.ToString();
    }

    [Theory]
    // Text, fields, pipelines, variables.
    [InlineData("plain text", "plain text")]
    [InlineData("{{.level}}", "info")]
    [InlineData("{{.nope}}", "")]
    [InlineData("{{ .msg | lower | upper }}", "HELLO WORLD")]
    [InlineData("{{ $x := .level }}{{ $x }}{{ $x = \"y\" }}{{ $x }}", "infoy")]
    [InlineData("{{ $ }}", "map[b64:aGVsbG8 dur:1m30s empty: f:2.5 json:{\"a\":{\"b\":[1,\"two\"]},\"s\":\"x\"} level:info msg:Hello World n:42 path:/api/v1/users size:1.5KiB]")]
    [InlineData("{{/* a comment */}}x{{- /* trimmed */ -}} y", "xy")]
    [InlineData("a  {{- \"b\" -}}  c", "abc")]
    [InlineData("{{ \"quoted\\t\" }}{{ `raw\\t` }}", "quoted\traw\\t")]
    [InlineData("{{ 3 }} {{ 1.5 }} {{ 1e6 }} {{ true }} {{ 'a' }} {{ 0x10 }}", "3 1.5 1e+06 true 97 16")]
    [InlineData("{{ (printf \"%s-%s\" .level .n) }}", "info-42")]
    // Conditionals, with, range.
    [InlineData("{{if .empty}}yes{{else}}no{{end}}", "no")]
    [InlineData("{{if and .level .n}}both{{end}}", "both")]
    [InlineData("{{if or .empty .nope}}x{{else}}neither{{end}}", "neither")]
    [InlineData("{{if not .empty}}empty{{end}}", "empty")]
    [InlineData("{{ and .level .empty .n }}|{{ or .empty .level }}", "|info")]
    [InlineData("{{with .level}}[{{.}}]{{end}}{{with .empty}}x{{else}}none{{end}}", "[info]none")]
    [InlineData("{{if eq .n \"42\"}}a{{else if eq .n \"43\"}}b{{else}}c{{end}}", "a")]
    [InlineData("{{range $i, $e := (fromJson .json).a.b}}{{$i}}={{$e}};{{end}}", "0=1;1=two;")]
    [InlineData("{{range $k, $v := fromJson .json}}{{$k}} {{end}}", "a s ")]
    [InlineData("{{range (fromJson \"[]\")}}x{{else}}empty{{end}}", "empty")]
    [InlineData("{{range $i, $e := fromJson \"[1,2,3]\"}}{{if eq $i 1}}{{continue}}{{end}}{{if eq $i 2}}{{break}}{{end}}{{$e}}{{end}}", "1")]
    [InlineData("{{ (fromJson .json).s }} {{ index (fromJson .json) \"s\" }} {{ (fromJson .json).missing }}", "x x <no value>")]
    // Comparisons and built-ins.
    [InlineData("{{ eq 1 1 }} {{ ne \"a\" \"b\" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1.5 2.5 }} {{ ge \"b\" \"a\" }}", "true true true true false true")]
    [InlineData("{{ eq .level \"debug\" \"info\" }}", "true")]
    [InlineData("{{ len .msg }} {{ index .msg 0 }} {{ slice .msg 0 5 }}", "11 72 Hello")]
    [InlineData("{{ print \"a\" 1 2 \"b\" }}|{{ println 1 \"x\" }}", "a1 2b|1 x\n")]
    [InlineData("{{ printf \"%5s|%-5s|%05d|%.2f|%x|%q|%v|%t|%3.1f%%\" \"ab\" \"cd\" 42 3.14159 255 \"q\" 7 true 2.25 }}", "   ab|cd   |00042|3.14|ff|\"q\"|7|true|2.2%")]
    [InlineData("{{ printf \"%d\" \"str\" }}|{{ printf \"%s\" }}", "%!d(string=str)|%!s(MISSING)")]
    [InlineData("{{ html \"<a href='x'>&</a>\" }} {{ js \"it's \\\"q\\\"\" }} {{ urlquery \"a b&c\" }}", "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt; it\\'s \\\"q\\\" a+b%26c")]
    // Loki functions.
    [InlineData("{{ __line__ }}", "the line")]
    [InlineData("{{ __timestamp__ | unixEpochMillis }} {{ __timestamp__ | unixEpochNanos }} {{ __timestamp__ | unixEpoch }}", "1700000000123 1700000000123456789 1700000000")]
    [InlineData("{{ regexReplaceAll \"(\\\\w+)/v(\\\\d)\" .path \"${1}-$2\" }}", "/api-1/users")]
    [InlineData("{{ regexReplaceAll \"a(x*)b\" \"-ab-axxb-\" \"$1W\" }}", "---")]
    [InlineData("{{ regexReplaceAllLiteral \"v\\\\d\" .path \"$1\" }}", "/api/$1/users")]
    [InlineData("{{ count \"/\" .path }} {{ count \"[aeiou]\" .msg }}", "3 3")]
    [InlineData("{{ urlencode \"a b/c?d=é\" }} {{ urldecode \"a+b%2Fc\" }}", "a+b%2Fc%3Fd%3D%C3%A9 a b/c")]
    [InlineData("{{ bytes .size }} {{ duration .dur }} {{ duration_seconds \"250ms\" }}", "1536 90 0.25")]
    [InlineData("{{ unixToTime \"1700000000\" | unixEpochMillis }} {{ unixToTime \"1700000000123\" | unixEpochNanos }} {{ unixToTime \"19675\" | unixEpoch }}",
        "1700000000000 1700000000123000000 1699920000")]
    [InlineData("{{ toDateInZone \"2006-01-02 15:04\" \"UTC\" \"2024-03-01 10:30\" | unixEpoch }}", "1709289000")]
    [InlineData("{{ toDateInZone \"2006-01-02\" \"UTC\" \"garbage\" | unixEpoch }}", "-62135596800")]
    [InlineData("[{{ alignLeft 6 .level }}] [{{ alignRight 6 .level }}] [{{ alignLeft 2 .level }}] [{{ alignRight 2 .level }}] [{{ alignLeft -1 .level }}]", "[info  ] [  info] [in] [fo] [info]")]
    [InlineData("{{ b64dec .b64 }} {{ b64enc \"hello\" }} {{ b64dec \"!!!\" }}", "hello aGVsbG8= illegal base64 data at input byte 0")]
    // Deprecated Go helpers.
    [InlineData("{{ ToLower .msg }} {{ ToUpper .level }} {{ Replace .msg \"l\" \"L\" 2 }} {{ Trim \"xxaxx\" \"x\" }} {{ TrimLeft \"xxa\" \"x\" }} " +
        "{{ TrimRight \"axx\" \"x\" }} {{ TrimPrefix .path \"/api\" }} {{ TrimSuffix .path \"/users\" }} [{{ TrimSpace \"  s  \" }}]",
        "hello world INFO HeLLo World a a a /v1/users /api/v1 [s]")]
    // sprig.
    [InlineData("{{ lower .msg }} {{ upper .level }} {{ title \"hello big-world\" }}", "hello world INFO Hello Big-World")]
    [InlineData("{{ trunc 5 .msg }}|{{ trunc -5 .msg }}|{{ trunc 50 .msg }}", "Hello|World|Hello World")]
    [InlineData("{{ substr 0 5 .msg }}|{{ substr 6 -1 .msg }}|{{ substr -1 5 .msg }}", "Hello|World|Hello")]
    [InlineData("{{ contains \"World\" .msg }} {{ hasPrefix \"Hell\" .msg }} {{ hasSuffix \"x\" .msg }}", "true true false")]
    [InlineData("{{ indent 2 \"a\\nb\" }}|{{ nindent 2 \"a\" }}", "  a\n  b|\n  a")]
    [InlineData("{{ replace \"o\" \"0\" .msg }} {{ repeat 3 \"ab\" }} [{{ trim \"  t  \" }}] {{ trimAll \"$\" \"$5$\" }} {{ trimSuffix \"-x\" \"a-x\" }} {{ trimPrefix \"x-\" \"x-a\" }}",
        "Hell0 W0rld ababab [t] 5 a a")]
    [InlineData("{{ int \"12.7\" }} {{ int \"abc\" }} {{ float64 \"2.5\" }} {{ int .n | add 1 }}", "12 0 2.5 43")]
    [InlineData("{{ add 1 2 3 }} {{ sub 10 3 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 2 }} {{ add .n .f }}", "6 7 24 3 1 44")]
    [InlineData("{{ addf 1.1 2.2 }} {{ subf 5 1.5 }} {{ mulf 1.5 2 }} {{ divf 1 4 }} {{ divf 10 3 }}", "3.3 3.5 3 0.25 3.3333333333333335")]
    [InlineData("{{ max 1 5 3 }} {{ min 4 2 9 }} {{ maxf 1.5 0.5 }} {{ minf 1.5 0.5 }}", "5 2 1.5 0.5")]
    [InlineData("{{ ceil 1.2 }} {{ floor 1.8 }} {{ round 1.2345 2 }} {{ round 1.235 2 }} {{ round 2.5 0 }} {{ round 1.15 1 0.6 }}", "2 1 1.23 1.24 3 1.1")]
    [InlineData("{{ default \"dflt\" .empty }} {{ default \"dflt\" .level }} {{ .nope | default \"x\" }} {{ default 5 0 }}", "dflt info x 5")]
    [InlineData("{{ date \"2006-01-02T15:04:05Z07:00\" (unixToTime \"1700000000\") }}", "2023-11-14T22:13:20Z")]
    [InlineData("{{ toDate \"2006-01-02\" \"2024-02-29\" | date \"Mon Jan 2 2006\" }}", "Thu Feb 29 2024")]
    [InlineData("{{ __timestamp__ }}", "2023-11-14 22:13:20.123456789 +0000 UTC")]
    [InlineData("{{ (toDateInZone \"2006-01-02T15:04:05.000Z07:00\" \"UTC\" \"2024-01-02T03:04:05.678+02:00\") | unixEpochMillis }}", "1704157445678")]
    public void Executes(string template, string expected) =>
        Assert.Equal(expected, Execute(template, 1_700_000_000_123_456_789));

    [Theory]
    [InlineData("{{ div 1 0 }}", "template: line:1:3: executing \"line\" at <div 1 0>: error calling div: runtime error: integer divide by zero")]
    [InlineData("{{ trunc \"x\" .msg }}", "template: line:1:9: executing \"line\" at <\"x\">: expected integer; found \"x\"")]
    [InlineData("{{ .level.sub }}", "template: line:1:3: executing \"line\" at <.level.sub>: can't evaluate field sub in type string")]
    [InlineData("{{ lt 1 \"a\" }}", "template: line:1:3: executing \"line\" at <lt 1 \"a\">: error calling lt: incompatible types for comparison")]
    [InlineData("{{ urldecode \"%zz\" }}", "template: line:1:3: executing \"line\" at <urldecode \"%zz\">: error calling urldecode: invalid URL escape \"%zz\"")]
    [InlineData("{{ bytes \"lots\" }}", "error calling bytes:")]
    [InlineData("{{ unixToTime \"123\" }}", "error calling unixToTime: unable to parse time '123': %!w(<nil>)")]
    [InlineData("{{ substr 5 2 .msg }}", "error calling substr: runtime error: slice bounds out of range [5:2]")]
    [InlineData("{{ regexReplaceAll \"(\" .msg \"x\" }}", "error calling regexReplaceAll: error parsing regexp: missing closing )")]
    [InlineData("{{ upper }}", "wrong number of args for upper: want 1 got 0")]
    [InlineData("{{ index (fromJson \"[1]\") 3 }}", "error calling index: index out of range: 3")]
    [InlineData("{{ divf 1 0 }}", "error calling divf: decimal division by 0")]
    public void ReportsExecutionErrors(string template, string expected)
    {
        var e = Assert.Throws<TemplateExecutionException>(() => Execute(template));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{ .a ", "template: line:1: unclosed action")]
    [InlineData("{{ nosuch }}", "template: line:1: function \"nosuch\" not defined")]
    [InlineData("{{ if .a }}x", "template: line:1: unexpected EOF")]
    [InlineData("{{ end }}", "template: line:1: unexpected {{end}}")]
    [InlineData("{{ $undefined }}", "template: line:1: undefined variable \"$undefined\"")]
    [InlineData("{{ \"unterminated }}", "template: line:1: unterminated quoted string")]
    [InlineData("{{ define \"x\" }}{{ end }}", "not supported")]
    [InlineData("line one\n{{ ( }}", "template: line:2:")]
    [InlineData("{{ '' }}", "template: line:1: invalid syntax")]
    [InlineData("{{ 'ab' }}", "template: line:1: malformed character constant: 'ab'")]
    public void ReportsParseErrors(string template, string expected)
    {
        var e = Assert.Throws<TemplateParseException>(() => GoTemplate.Parse("line", template));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryRegisteredFunctionParses()
    {
        foreach (var name in TemplateFunctions.Names)
        {
            GoTemplate.Parse("line", "{{ if false }}{{ " + name + " }}{{ end }}");
        }

        Assert.Equal(86, TemplateFunctions.Names.Count());
    }
}
