#!/usr/bin/env pwsh
# EpgFast build script. Run through the repo's local PowerShell tool:
#   dotnet tool restore && dotnet pwsh ./build.ps1 <target> [-- extra args]
# Targets: deps, build, test, bench, main (the main job: epg reproduce --scale mini), reproduce, train, eval, info, selfcheck,
#          gpu-bundle (a self-contained epg + libmujoco for a GPU machine without .NET: .gpu/epg-linux-x64.tar.xz; see bench/gpu/run.sh),
#          ptxas (fetches NVIDIA's ptxas into .tools/cuda, then `epg ptx --model`: every kernel assembled for sm_90 and the learner-step model; .tools/ptx/table.md, model.md)
# No param block: every argument after the target goes to the verb untouched (an optional leading
# `--` is dropped), so `build.ps1 eval --loss X --targets left` works as it reads.
$Target = if ($args.Count -gt 0) { [string]$args[0] } else { 'build' }
[string[]]$Rest = if ($args.Count -gt 1) { $args[1..($args.Count - 1)] } else { @() }
if ($Rest.Count -gt 0 -and $Rest[0] -eq '--') { $Rest = if ($Rest.Count -gt 1) { $Rest[1..($Rest.Count - 1)] } else { @() } }
$Configuration = if ($env:EPG_CONFIGURATION) { $env:EPG_CONFIGURATION } else { 'Release' }
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$root = $PSScriptRoot
$cli = Join-Path $root 'src/EpgFast.Cli/EpgFast.Cli.csproj'

# Debian packages the tests, the MuJoCo backend and multi-process runs (Open MPI: mpirun, libmpi.so.40) need.
$aptPackages = @('libmujoco2.2.2', 'libmujoco-dev', 'libmujoco-samples', 'gcc', 'openmpi-bin', 'libopenmpi-dev')

function Invoke-Checked([string]$exe, [string[]]$arguments) {
    Write-Host "> $exe $($arguments -join ' ')"
    & $exe @arguments
    if ($LASTEXITCODE -ne 0) { throw "$exe exited with code $LASTEXITCODE" }
}

function Install-Deps {
    $missing = @($aptPackages | Where-Object {
        $status = & dpkg-query -W -f='${Status}' $_ 2>$null
        -not ($LASTEXITCODE -eq 0 -and "$status" -match 'install ok installed')
    })
    if ($missing.Count -eq 0) { Write-Host "deps: all apt packages present ($($aptPackages -join ', '))"; return }
    $cmd = "apt-get update && apt-get install -y $($missing -join ' ')"
    $uid = (& id -u)
    if ($uid -eq '0') {
        Write-Host "deps: installing $($missing -join ', ')"
        & bash -c "export DEBIAN_FRONTEND=noninteractive; $cmd"
        if ($LASTEXITCODE -ne 0) { throw "apt-get failed installing $($missing -join ', ')" }
    } else {
        Write-Host "deps: missing apt packages; run as root:"
        Write-Host "  sudo sh -c '$cmd'"
        exit 1
    }
}

# NVIDIA's PTX assembler without a GPU: the one nvidia-cuda-toolkit .deb of Debian's non-free component (ptxas 11.8 on
# bookworm, libc only), downloaded through apt with a temporary sources list and state (the machine's apt sources and
# lists are left as they were), unpacked with dpkg-deb; only usr/bin/ptxas is kept, under the ignored .tools/cuda.
$ptxasPath = Join-Path $root '.tools/cuda/usr/bin/ptxas'

function Install-Ptxas([bool]$required) {
    if (Test-Path $ptxasPath) { Write-Host "ptxas: present ($ptxasPath)"; return }
    $uid = (& id -u)
    if ($uid -ne '0') {
        $msg = "ptxas: not installed; run as root: dotnet pwsh ./build.ps1 ptxas (the ptxas tests skip without it)"
        if ($required) { throw $msg }
        Write-Host $msg
        return
    }
    $os = @{}
    foreach ($line in (Get-Content '/etc/os-release')) { if ($line -match '^([A-Z_]+)=(.*)$') { $os[$Matches[1]] = $Matches[2].Trim('"') } }
    if ($os['ID'] -ne 'debian' -or -not $os['VERSION_CODENAME']) {
        $msg = "ptxas: fetching it needs Debian (its non-free nvidia-cuda-toolkit package); this is $($os['PRETTY_NAME']): put a ptxas on the PATH or in EPG_PTXAS"
        if ($required) { throw $msg }
        Write-Host $msg
        return
    }
    $tmp = (& mktemp -d).Trim()
    try {
        foreach ($d in @('lists/partial', 'cache/archives/partial', 'parts', 'deb')) { New-Item -ItemType Directory -Force (Join-Path $tmp $d) | Out-Null }
        Set-Content -Path (Join-Path $tmp 'sources.list') -Value "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $($os['VERSION_CODENAME']) non-free"
        $apt = @('-q', '-o', "Dir::Etc::SourceList=$tmp/sources.list", '-o', "Dir::Etc::SourceParts=$tmp/parts",
            '-o', "Dir::State::Lists=$tmp/lists", '-o', "Dir::Cache=$tmp/cache", '-o', 'APT::Sandbox::User=root')
        Invoke-Checked 'apt-get' ($apt + @('update'))
        Push-Location (Join-Path $tmp 'deb')
        try { Invoke-Checked 'apt-get' ($apt + @('download', 'nvidia-cuda-toolkit')) } finally { Pop-Location }
        $deb = Get-ChildItem (Join-Path $tmp 'deb') -Filter 'nvidia-cuda-toolkit_*.deb' | Select-Object -First 1
        if (-not $deb) { throw 'ptxas: apt-get download left no nvidia-cuda-toolkit .deb' }
        Invoke-Checked 'dpkg-deb' @('-x', $deb.FullName, (Join-Path $tmp 'x'))
        $bin = New-Item -ItemType Directory -Force (Split-Path $ptxasPath)
        Copy-Item -LiteralPath (Join-Path $tmp 'x/usr/bin/ptxas') -Destination $bin
        Write-Host "ptxas: $($deb.Name) -> $ptxasPath"
        Invoke-Checked $ptxasPath @('--version')
    } finally {
        Remove-Item -Recurse -Force $tmp
    }
}

function Invoke-Epg([string[]]$arguments) {
    Invoke-Checked 'dotnet' (@('run', '--project', $cli, '-c', $Configuration, '--') + $arguments)
}

switch ($Target) {
    'deps' { Install-Deps; Install-Ptxas $false }
    'build' { Invoke-Checked 'dotnet' @('build', (Join-Path $root 'EpgFast.sln'), '-c', $Configuration) }
    'test' {
        Install-Deps
        Install-Ptxas $false
        $logger = @('--logger', 'console;verbosity=normal')
        Invoke-Checked 'dotnet' (@('test', (Join-Path $root 'EpgFast.sln'), '-c', $Configuration) + $logger + $Rest)
    }
    'bench' {
        Invoke-Checked 'dotnet' (@('run', '--project', (Join-Path $root 'bench/EpgFast.Bench/EpgFast.Bench.csproj'), '-c', 'Release', '--') + $Rest)
    }
    'info' { Invoke-Epg (@('info') + $Rest) }
    'selfcheck' { Invoke-Epg (@('selfcheck') + $Rest) }
    'main' {
        # The main job: the seed's experiment at the mini scale (point-goal: EPG, the initial loss, PPO and RL^2 on right
        # and left targets) into a fresh folder.
        $out = Join-Path 'runs' ("reproduce-mini-" + (Get-Date -Format 'yyyyMMdd-HHmmss'))
        Invoke-Epg (@('reproduce', '--scale', 'mini', '--out', $out) + $Rest)
    }
    'reproduce' { Invoke-Epg (@('reproduce') + $Rest) }
    'train' { Invoke-Epg (@('train') + $Rest) }
    'eval' { Invoke-Epg (@('eval') + $Rest) }
    'gpu-bundle' {
        # The lent GPU machines have no .NET and reach no registry: carry epg self-contained, with libmujoco and its
        # libraries (for the MuJoCo self-checks), as one compressed file under the ignored folder .gpu/.
        $gpu = Join-Path $root '.gpu'
        $stage = Join-Path $gpu 'epg'
        if (Test-Path $stage) { Remove-Item -Recurse -Force $stage }
        Invoke-Checked 'dotnet' @('publish', $cli, '-c', 'Release', '-r', 'linux-x64', '--self-contained', 'true', '-o', (Join-Path $stage 'bin'))
        $lib = New-Item -ItemType Directory -Force (Join-Path $stage 'lib')
        foreach ($so in @('libmujoco.so.2.2.2', 'libccd.so.2', 'liblodepng.so.0', 'libqhull_r.so.8.0', 'libtinyxml2.so.9')) {
            $path = @('/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu') | ForEach-Object { Join-Path $_ $so } | Where-Object { Test-Path $_ } | Select-Object -First 1
            if (-not $path) { throw "gpu-bundle: $so not found (dotnet pwsh ./build.ps1 deps installs libmujoco2.2.2)" }
            Copy-Item -LiteralPath (Resolve-Path $path) -Destination (Join-Path $lib $so)
        }
        $tar = Join-Path $gpu 'epg-linux-x64.tar.xz'
        Invoke-Checked 'tar' @('-C', $gpu, '-cJf', $tar, 'epg')
        Remove-Item -Recurse -Force $stage
        Write-Host ("gpu-bundle: {0} ({1:N1} MiB)" -f $tar, ((Get-Item $tar).Length / 1MB))
    }
    'ptxas' {
        # Fetch ptxas (as root), then assemble every kernel for sm_90 and print the table and the H100 model; table.md, model.md, .ptx and .cubin files go to .tools/ptx.
        Install-Ptxas $true
        Invoke-Epg (@('ptx', '--model', '--out', (Join-Path $root '.tools/ptx')) + $Rest)
    }
    default { throw "unknown target '$Target' (deps, build, test, bench, main, reproduce, train, eval, info, selfcheck, gpu-bundle, ptxas)" }
}
