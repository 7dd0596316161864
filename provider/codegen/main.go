// gen-sdk: writes the nodejs, python and go SDKs of a Pulumi package from its schema with
// Pulumi's own codegen libraries (pkg/v3), without the language hosts that
// `pulumi package gen-sdk` needs. Built and cached outside the repository by gen-sdk.sh.
//
//	gen-sdk <schema.json> <out-dir> [nodejs,python,go]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/blang/semver"
	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

// noRefs refuses every external package reference: the gitops schema is self-contained.
type noRefs struct{}

func (noRefs) LoadPackage(pkg string, _ *semver.Version) (*schema.Package, error) {
	return nil, fmt.Errorf("package %s: external references are not supported", pkg)
}
func (noRefs) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, fmt.Errorf("package %s: external references are not supported", d.Name)
}
func (noRefs) LoadPackageReference(pkg string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, fmt.Errorf("package %s: external references are not supported", pkg)
}
func (noRefs) LoadPackageReferenceV2(_ context.Context, d *schema.PackageDescriptor) (schema.PackageReference, error) {
	return nil, fmt.Errorf("package %s: external references are not supported", d.Name)
}

func write(dir string, files map[string][]byte) error {
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("%s: %d files\n", dir, len(files))
	return nil
}

func bind(raw []byte) (*schema.Package, error) {
	var spec schema.PackageSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, err
	}
	pkg, diags, err := schema.BindSpec(spec, noRefs{}, schema.ValidationOptions{})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return pkg, nil
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: gen-sdk <schema.json> <out-dir> [nodejs,python,go]")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	langs := []string{"nodejs", "python", "go"}
	if len(os.Args) > 3 {
		langs = strings.Split(os.Args[3], ",")
	}
	for _, lang := range langs {
		// Each generator annotates the package: bind afresh per language.
		pkg, err := bind(raw)
		if err != nil {
			fmt.Fprintln(os.Stderr, "schema:", err)
			os.Exit(1)
		}
		var files map[string][]byte
		switch lang {
		case "nodejs":
			files, err = nodejs.GeneratePackage("gitops-gen-sdk", pkg, nil, nil, false, noRefs{})
		case "python":
			files, err = python.GeneratePackage("gitops-gen-sdk", pkg, nil, noRefs{})
		case "go":
			files, err = gogen.GeneratePackage("gitops-gen-sdk", pkg, nil)
		default:
			err = fmt.Errorf("unknown language %q", lang)
		}
		if err == nil {
			err = write(filepath.Join(os.Args[2], lang), files)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", lang, err)
			os.Exit(1)
		}
	}
}
